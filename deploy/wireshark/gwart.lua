-- SPDX-License-Identifier: BSD-3-Clause
--
-- Wireshark dissector for the gwart wire protocol, version 2
-- (include/gwart/PROTOCOL.md is normative; include/gwart/wire.h and
-- dataplane/proto/wire.c are the C codec this file follows).
--
-- Use:   tshark -X lua_script:gwart.lua -r capture.pcapng
--        (meson install puts it in libdir/wireshark/plugins, where a
--        Wireshark of the same prefix loads it: deploy/meson.build)
--        or copy it into ~/.local/lib/wireshark/plugins/ (or the global
--        Lua plugin directory, `tshark -G folders`).
-- Registered on UDP port 4790 (GW_WIRE_UDP_PORT; preference gwart.udp_port
-- for routers configured with another "udp_port").
--
-- Every field is named gwart.<field> (header), gwart.<type>.<field> (body)
-- and gwart.trailer.<field>. The generated field gwart.status is the verdict
-- gw_wire_parse() gives the same bytes (the GW_WIRE_* status in enum order,
-- 0 = OK), checked in the same order; every check that fails adds expert
-- info. Tags are shown, not verified (that needs the connectors' secrets).
--
-- Chunks (PROTOCOL.md 3.1.1): a DATA frame with flag CHUNK (gwart.flags.chunk)
-- carries a chunk extension after its payload, decoded as gwart.chunk.group,
-- .total_len, .count, .index (0-based) and .chunk_len, with the generated
-- gwart.chunk.offset (where its payload sits in the message); its rules are
-- checked as gw_chunk_check() checks them (verdict BAD_CHUNK). The info
-- column counts chunks from 1: "chunk 2/3" is index 1 of a group of 3.
--
-- The dissector must never raise a Lua error, whatever the datagram: every
-- read is bounded by the captured length first. A bug that raises anyway is
-- caught and reported as expert info gwart.expert.internal, so a capture
-- still opens; tests/integration/dissector.sh asserts it never appears.

local gwart = Proto("gwart", "gwart message router protocol")

local HDR_LEN, TRAILER_LEN, TAG_LEN, SALT_LEN = 24, 24, 16, 16
local DEST_MAX, PAYLOAD_MAX, ADDR_TYPE_MAX = 255, 8192, 16
local CHUNK_EXT_LEN, MSG_MAX = 24, 64 * 1024 * 1024
local MAGIC, VERSION, DEFAULT_PORT = 0x4757, 2, 4790

-- ---- value strings (wire.h: enum gw_type, GW_NACK_REASONS, GW_F_*,
-- ---- GW_WIRE_STATUSES) ------------------------------------------------------

local T = { DATA = 1, ACK = 2, NACK = 3, HELLO = 4, WELCOME = 5, KEEPALIVE = 6, BYE = 7 }
local types = { [1] = "DATA", [2] = "ACK", [3] = "NACK", [4] = "HELLO", [5] = "WELCOME",
	[6] = "KEEPALIVE", [7] = "BYE" }
-- Exact body length per type; DATA's is its fixed part (wire.c body_len[]).
local body_len = { [1] = 16, [2] = 16, [3] = 16, [4] = 16, [5] = 48, [6] = 0, [7] = 8 }

local nack_reasons = { [1] = "NO_ROUTE", [2] = "BUSY", [3] = "TOO_BIG", [4] = "EXPIRED",
	[5] = "NOT_AUTHORISED", [6] = "NO_SESSION" }
local nack_reason_text = { [1] = "no route to destination",
	[2] = "destination custody full, retry later",
	[3] = "frame larger than the router accepts",
	[4] = "message expired or outside duplicate window",
	[5] = "sender not authorised", [6] = "no session or stale epoch, say HELLO" }
local bye_reasons = { [0] = "normal close" }
local flag_names = { [0] = "none", [1] = "RETRANSMIT", [2] = "CHUNK", [3] = "RETRANSMIT, CHUNK" }
local F_RETRANSMIT, F_CHUNK, F_KNOWN = 0x0001, 0x0002, 0x0003
local lanes = { [0] = "KEEPALIVE, BYE", [1] = "DATA, ACK, NACK" }

-- enum gw_wire_status, in order: the numbers are the C parser's.
local S = { OK = 0, TRUNCATED = 1, BAD_MAGIC = 2, BAD_VERSION = 3, BAD_TYPE = 4, BAD_LENGTH = 5,
	BAD_FLAGS = 6, DEST_EMPTY = 7, DEST_TOO_LONG = 8, BAD_DEST = 9, PAYLOAD_TOO_BIG = 10,
	BAD_SENDER = 11, BAD_SEQ = 12, BAD_REASON = 13, BAD_FIELD = 14, BAD_CHUNK = 15 }
local statuses = {}
for name, v in pairs(S) do statuses[v] = name end

-- ---- fields ------------------------------------------------------------------

local pf, fields = {}, {} -- by key; in the order defined, for registration
local function field(key, ctor, name, ...)
	pf[key] = ctor("gwart." .. key, name, ...)
	fields[#fields + 1] = pf[key]
end
local U8, U16, U32, U64 = ProtoField.uint8, ProtoField.uint16, ProtoField.uint32, ProtoField.uint64
local DEC, HEX = base.DEC, base.HEX

-- header (PROTOCOL.md 2.1)
field("magic", U16, "Magic", HEX)
field("version", U8, "Version", DEC)
field("type", U8, "Type", DEC, types)
field("length", U16, "Length", DEC)
field("flags", U16, "Flags", HEX, flag_names)
field("flags.retransmit", ProtoField.bool, "RETRANSMIT", 16, nil, F_RETRANSMIT)
field("flags.chunk", ProtoField.bool, "CHUNK", 16, nil, F_CHUNK)
field("flags.unknown", U16, "Unknown flags (must be 0)", HEX, nil, 0xFFFC)
field("sender", U32, "Sender", DEC)
field("epoch", U32, "Epoch", DEC)
field("seq", U64, "Seq", DEC)
-- generated
field("conn", U32, "Connector", DEC)
field("from_router", ProtoField.bool, "From the router")
field("handshake", ProtoField.bool, "Handshake frame (hs keys)")
field("tag_key", ProtoField.string, "Tag key")
field("status", U8, "Parser verdict", DEC, statuses)
field("trailing", ProtoField.bytes, "Bytes after the frame's length")
field("body", ProtoField.bytes, "Body (not decoded)")

-- DATA (3.1)
field("data.origin_seq", U64, "Origin seq", DEC)
field("data.origin", U32, "Origin", DEC)
field("data.dest_len", U16, "Destination length", DEC)
field("data.payload_len", U16, "Payload length", DEC)
field("data.dest", ProtoField.string, "Destination")
field("data.dest.type", ProtoField.string, "Address type")
field("data.dest.domain", ProtoField.string, "Routing domain")
field("data.payload", ProtoField.bytes, "Payload")
field("data.link_seq", U64, "Link seq", DEC)
-- chunk extension (3.1.1)
field("chunk.group", U64, "Group (origin seq of chunk 0)", DEC)
field("chunk.total_len", U32, "Message length", DEC)
field("chunk.count", U32, "Chunks in group", DEC)
field("chunk.index", U32, "Chunk index", DEC)
field("chunk.chunk_len", U32, "Chunk length", DEC)
field("chunk.offset", U32, "Offset in message", DEC)
-- ACK (3.2)
field("ack.cum", U64, "Cumulative point", DEC)
field("ack.base", U64, "Base", DEC)
field("ack.bitmap", U64, "Bitmap", HEX)
field("ack.acked", U64, "Acknowledged by bitmap", DEC)
field("ack.count", U8, "Seqs in bitmap", DEC)
-- NACK (3.3)
field("nack.seq", U64, "Refused link seq", DEC)
field("nack.origin_seq", U64, "Origin seq", DEC)
field("nack.reason", U16, "Reason", DEC, nack_reasons)
field("nack.reserved", U16, "Reserved", HEX)
field("nack.retry_after_us", U32, "Retry after (us)", DEC)
-- HELLO (3.4)
field("hello.next_seq", U64, "Next origin seq", DEC)
field("hello.nonce", U64, "Instance nonce", HEX)
field("hello.rx_window", U32, "Receive window", DEC)
field("hello.reserved", U32, "Reserved", HEX)
-- WELCOME (3.5)
field("welcome.t", U64, "Egress cumulative point T", DEC)
field("welcome.nonce", U64, "Nonce (echo)", HEX)
field("welcome.router_seq", U64, "Router seq (origin cumulative point)", DEC)
field("welcome.dup_window", U32, "Duplicate window", DEC)
field("welcome.keepalive_ms", U32, "Keepalive interval (ms)", DEC)
field("welcome.keepalive_mult", U32, "Keepalive multiplier", DEC)
field("welcome.max_payload", U32, "Max payload", DEC)
field("welcome.salt", ProtoField.bytes, "Session salt")
-- KEEPALIVE (3.6)
field("keepalive.clock_us", U64, "Monotonic clock (us)", DEC)
field("keepalive.probe", ProtoField.bool, "Reconnection probe (epoch 0)")
-- BYE (3.7)
field("bye.reason", U32, "Reason", DEC, bye_reasons)
field("bye.reserved", U32, "Reserved", HEX)
-- trailer (2.2, 17.5)
field("trailer.ctr", U64, "Counter", HEX)
field("trailer.lane", U8, "Lane", DEC, lanes)
field("trailer.count", U64, "Count", DEC)
field("trailer.time", ProtoField.absolute_time, "Time (ns, handshake)", base.UTC)
field("trailer.tag", ProtoField.bytes, "Tag")

gwart.fields = fields

-- ---- expert info ---------------------------------------------------------------

local ef, experts = {}, {}
local MALFORMED, PROTOCOL = expert.group.MALFORMED, expert.group.PROTOCOL
local function expertf(key, text, group, sev)
	ef[key] = ProtoExpert.new("gwart.expert." .. key, text, group, sev)
	experts[#experts + 1] = ef[key]
end
local ERR, WARN, NOTE = expert.severity.ERROR, expert.severity.WARN, expert.severity.NOTE
-- One per parser verdict, named as in wire.h (lower case).
expertf("truncated", "Shorter than its header or its declared length", MALFORMED, ERR)
expertf("bad_magic", "Wrong magic (not 0x4757)", MALFORMED, ERR)
expertf("bad_version", "Unsupported version (not 2)", MALFORMED, ERR)
expertf("bad_type", "Unknown frame type", MALFORMED, ERR)
expertf("bad_length", "Length inconsistent with type or datagram", MALFORMED, ERR)
expertf("bad_flags", "Unknown flag set", MALFORMED, ERR)
expertf("dest_empty", "Empty destination", MALFORMED, ERR)
expertf("dest_too_long", "Destination longer than 255 bytes", MALFORMED, ERR)
expertf("bad_dest", "Destination is not type:address", MALFORMED, ERR)
expertf("payload_too_big", "Payload longer than 8192 bytes", MALFORMED, ERR)
expertf("bad_sender", "Sender invalid for this frame type", MALFORMED, ERR)
expertf("bad_seq", "Sequence number zero", MALFORMED, ERR)
expertf("bad_reason", "Unknown NACK reason", MALFORMED, ERR)
expertf("bad_field", "Reserved field not zero or field out of range", MALFORMED, ERR)
expertf("bad_chunk", "Chunk extension inconsistent (group, index, count, lengths)", MALFORMED, ERR)
-- Not parser verdicts: what a receiver refuses later, or capture artefacts.
expertf("lane", "Counter lane is not the type's (refused AUTH_FAILED)", PROTOCOL, WARN)
expertf("flag_ignored", "RETRANSMIT on a frame that is not DATA (ignored)", PROTOCOL, NOTE)
expertf("snaplen", "Datagram cut by the capture's snap length", MALFORMED, WARN)
expertf("internal", "gwart dissector bug (please report)", expert.group.UNDECODED, ERR)
local status_expert = { [S.TRUNCATED] = "truncated", [S.BAD_MAGIC] = "bad_magic",
	[S.BAD_VERSION] = "bad_version", [S.BAD_TYPE] = "bad_type", [S.BAD_LENGTH] = "bad_length",
	[S.BAD_FLAGS] = "bad_flags", [S.DEST_EMPTY] = "dest_empty",
	[S.DEST_TOO_LONG] = "dest_too_long", [S.BAD_DEST] = "bad_dest",
	[S.PAYLOAD_TOO_BIG] = "payload_too_big", [S.BAD_SENDER] = "bad_sender",
	[S.BAD_SEQ] = "bad_seq", [S.BAD_REASON] = "bad_reason", [S.BAD_FIELD] = "bad_field",
	[S.BAD_CHUNK] = "bad_chunk" }

gwart.experts = experts

gwart.prefs.udp_port = Pref.uint("UDP port", DEFAULT_PORT, "The router's UDP port (udp_port)")

-- ---- helpers -----------------------------------------------------------------------

local U64_MAX = UInt64.max()
local ZERO64 = UInt64(0)
local COUNT_MASK = UInt64(0xFFFFFFFF, 0x00FFFFFF) -- low 56 bits (GW_CTR_COUNT_MAX)
local NS_PER_S = UInt64(1000000000)

-- The dissection of one frame: the tvb, what is captured, the verdict so far.
-- Ctx methods never read a byte beyond the captured length.
local Ctx = {}
Ctx.__index = Ctx

local function ctx_new(tvb, pinfo, tree)
	return setmetatable({ tvb = tvb, pinfo = pinfo, tree = tree, cap = tvb:len(),
		n = tvb:reported_length_remaining(0), status = S.OK, cut = false }, Ctx)
end

function Ctx:has(off, len)
	return off >= 0 and len >= 0 and off + len <= self.cap
end

-- The field at [off, off+len) in tree t, if captured; its item or nil.
function Ctx:add(t, key, off, len)
	if not self:has(off, len) then
		if off + len <= self.n then self.cut = true end
		return nil
	end
	return t:add(pf[key], self.tvb:range(off, len))
end

function Ctx:u(off, len)
	if not self:has(off, len) then return nil end
	return self.tvb:range(off, len):uint()
end

function Ctx:u64(off)
	if not self:has(off, 8) then return nil end
	return self.tvb:range(off, 8):uint64()
end

-- A check failed: the first failure is the verdict (gw_wire_parse() stops
-- there), each one is expert info on the item it concerns.
function Ctx:fail(status, item, detail)
	if self.status == S.OK then self.status = status end
	local e = ef[status_expert[status]]
	local where = item or self.tree
	if detail then where:add_proto_expert_info(e, detail) else where:add_proto_expert_info(e) end
end

function Ctx:gen(t, key, value, off, len)
	local item
	if off and self:has(off, len) then
		item = t:add(pf[key], self.tvb:range(off, len), value)
	else
		item = t:add(pf[key], value)
	end
	item:set_generated()
	return item
end

-- A destination address checked as wire.c's addr_split() does (PROTOCOL.md 7):
-- returns ok, type length, domain offset.
local function addr_split(s)
	local len, t = #s, 0
	while t < len and t <= ADDR_TYPE_MAX do
		local c = s:byte(t + 1)
		local ok = c == 45 or (c >= 48 and c <= 57) or (c >= 65 and c <= 90) or (c >= 97 and c <= 122)
		if not ok then break end
		t = t + 1
	end
	if t == 0 or t > ADDR_TYPE_MAX or t + 1 >= len or s:byte(t + 1) ~= 58 then return false end
	local at = 0
	for i = t + 2, len do
		local c = s:byte(i)
		if c < 0x20 or c == 0x7f then return false end
		if c == 64 then at = i end -- 1-based index of '@' = 0-based offset after it
	end
	if at == 0 then at = t + 1 end
	if at == len then return false end
	return true, t, at
end

-- The connector a router frame goes to: learnt from that connector's own
-- frames in the same UDP conversation (the session's address, PROTOCOL.md 1).
local conn_by_addr, conn_by_frame = {}, {}

-- ---- bodies ---------------------------------------------------------------------------

-- The chunk extension at @x of a chunk with @oseq and @pl payload bytes:
-- decoded, and judged as gw_chunk_check() judges it (PROTOCOL.md 3.1.1, in
-- its order); the info column's part.
local function chunk_ext(c, t, x, oseq, pl)
	if not c:has(x, CHUNK_EXT_LEN) then
		if x + CHUNK_EXT_LEN <= c.n then c.cut = true end
		return ""
	end
	local xt = t:add(c.tvb:range(x, CHUNK_EXT_LEN), "Chunk extension")
	c:add(xt, "chunk.group", x, 8)
	c:add(xt, "chunk.total_len", x + 8, 4)
	local ci = c:add(xt, "chunk.count", x + 12, 4)
	local ii = c:add(xt, "chunk.index", x + 16, 4)
	local li = c:add(xt, "chunk.chunk_len", x + 20, 4)
	local group, total, count = c:u64(x), c:u(x + 8, 4), c:u(x + 12, 4)
	local index, clen = c:u(x + 16, 4), c:u(x + 20, 4)
	-- 32-bit values: every product below is under 2^45, exact in a Lua number.
	local why, item
	if clen == 0 or clen > PAYLOAD_MAX then
		why, item = "chunk_len " .. clen .. " not 1..8192", li
	elseif total > MSG_MAX then
		why = "total_len " .. total .. " above 64 MiB"
	elseif count < 2 or count * clen < total or (count - 1) * clen >= total then
		why, item = "count " .. count .. " is not ceil(total_len / chunk_len) >= 2", ci
	elseif index >= count then
		why, item = "index " .. index .. " not below count " .. count, ii
	elseif pl and pl ~= (index + 1 < count and clen or total - (count - 1) * clen) then
		why = "payload_len " .. pl .. " is not what index " .. index .. " carries (" ..
			(index + 1 < count and clen or total - (count - 1) * clen) .. ")"
	elseif oseq and (oseq <= UInt64(index) or oseq - index ~= group) then
		why = "origin_seq " .. tostring(oseq) .. " is not group " .. tostring(group) ..
			" + index " .. index
	elseif group > U64_MAX - (count - 1) then
		why = "the group's last seq passes 2^64 - 1"
	end
	if why then
		c:fail(S.BAD_CHUNK, item, why)
	else
		c:gen(xt, "chunk.offset", index * clen, x + 16, 4)
	end
	return " chunk " .. (index + 1) .. "/" .. count .. " group=" .. tostring(group) ..
		" (" .. total .. " B)"
end

local function body_data(c, t, seq, sender, epoch, flags)
	local dl, pl = c:u(36, 2), c:u(38, 2)
	c:add(t, "data.origin_seq", 24, 8)
	c:add(t, "data.origin", 32, 4)
	local di = c:add(t, "data.dest_len", 36, 2)
	local pi = c:add(t, "data.payload_len", 38, 2)
	c:gen(t, "data.link_seq", seq or UInt64(0), 16, 8)
	local info = ""
	if dl and pl then
		if dl == 0 then c:fail(S.DEST_EMPTY, di) end
		if dl > DEST_MAX then c:fail(S.DEST_TOO_LONG, di) end
		if pl > PAYLOAD_MAX then c:fail(S.PAYLOAD_TOO_BIG, pi) end
		local dn = math.min(dl, math.max(c.cap - 40, 0))
		if dn > 0 then
			local dest = c.tvb:range(40, dn):raw()
			local ditem = t:add(pf["data.dest"], c.tvb:range(40, dn))
			if dn < dl then c.cut = true end
			if dn == dl and dl <= DEST_MAX then
				local ok, tl, off = addr_split(dest)
				if ok then
					c:gen(ditem, "data.dest.type", dest:sub(1, tl), 40, tl)
					c:gen(ditem, "data.dest.domain", dest:sub(off + 1), 40 + off, dl - off)
				elseif dl ~= 0 then
					c:fail(S.BAD_DEST, ditem)
				end
			end
			info = " " .. dest:gsub("[%c\128-\255]", "."):sub(1, 64)
		end
		local po = 40 + dl
		local pn = math.min(pl, math.max(c.cap - po, 0))
		if pn > 0 then t:add(pf["data.payload"], c.tvb:range(po, pn)) end
		if pn < pl and po + pl <= c.n then c.cut = true end
		info = info .. " (" .. pl .. " B)"
	end
	local oseq, origin = c:u64(24), c:u(32, 4)
	if oseq and (oseq == ZERO64 or seq == ZERO64) then c:fail(S.BAD_SEQ) end
	if origin == 0 then c:fail(S.BAD_SENDER) end
	if origin and oseq then info = " msg=" .. origin .. "/" .. tostring(oseq) .. info end
	-- Check 15: the chunk extension, after every other field of DATA
	-- (decoded only where the frame has room for it before its trailer).
	if bit32.band(flags, F_CHUNK) ~= 0 and dl and pl and
		40 + dl + pl + CHUNK_EXT_LEN <= c.tend - TRAILER_LEN then
		info = info .. chunk_ext(c, t, 40 + dl + pl, oseq, pl)
	end
	return " seq=" .. tostring(seq) .. info
end

local function body_ack(c, t, seq)
	c:add(t, "ack.cum", 16, 8)
	c:add(t, "ack.base", 24, 8)
	local bi = c:add(t, "ack.bitmap", 32, 8)
	local base, bm = c:u64(24), c:u64(32)
	if not (base and bm) then return "" end
	-- bit i: link seq base + i, unless that would exceed 2^64 - 1 (9).
	local n, list = 0, {}
	for i = 0, 63 do
		local bit = UInt64(1):lshift(i)
		if bm:band(bit) ~= ZERO64 and base <= U64_MAX - i then
			local s = base + i
			c:gen(bi, "ack.acked", s, 32 + 7 - math.floor(i / 8), 1)
			n = n + 1
			if n <= 8 then list[#list + 1] = tostring(s) end
		end
	end
	c:gen(t, "ack.count", n, 32, 8)
	local info = " cum=" .. tostring(seq)
	if n > 0 then
		info = info .. " +{" .. table.concat(list, ",") .. (n > 8 and ",..." or "") .. "}"
	end
	return info
end

local function body_nack(c, t, seq)
	c:add(t, "nack.seq", 16, 8)
	c:add(t, "nack.origin_seq", 24, 8)
	local ri = c:add(t, "nack.reason", 32, 2)
	local zi = c:add(t, "nack.reserved", 34, 2)
	c:add(t, "nack.retry_after_us", 36, 4)
	local r, z = c:u(32, 2), c:u(34, 2)
	if r == nil then return "" end
	if r == 0 or r > 6 then c:fail(S.BAD_REASON, ri)
	elseif z ~= nil and z ~= 0 then c:fail(S.BAD_FIELD, zi, "Reserved field not zero") end
	if ri and nack_reason_text[r] then ri:append_text(": " .. nack_reason_text[r]) end
	return " " .. (nack_reasons[r] or ("reason " .. r)) .. " seq=" .. tostring(seq)
end

local function body_hello(c, t, seq, sender)
	c:add(t, "hello.next_seq", 16, 8)
	c:add(t, "hello.nonce", 24, 8)
	local wi = c:add(t, "hello.rx_window", 32, 4)
	local zi = c:add(t, "hello.reserved", 36, 4)
	local w, z = c:u(32, 4), c:u(36, 4)
	if sender == 0 then c:fail(S.BAD_SENDER, nil, "HELLO from sender 0 (the router)")
	elseif w == 0 then c:fail(S.BAD_FIELD, wi, "rx_window 0")
	elseif z ~= nil and z ~= 0 then c:fail(S.BAD_FIELD, zi, "Reserved field not zero") end
	return " next_seq=" .. tostring(seq) .. (w and (" rx_window=" .. w) or "")
end

local function body_welcome(c, t, seq, sender, epoch)
	c:add(t, "welcome.t", 16, 8)
	c:add(t, "welcome.nonce", 24, 8)
	c:add(t, "welcome.router_seq", 32, 8)
	local items = {}
	items.dup = c:add(t, "welcome.dup_window", 40, 4)
	items.ms = c:add(t, "welcome.keepalive_ms", 44, 4)
	items.mult = c:add(t, "welcome.keepalive_mult", 48, 4)
	items.max = c:add(t, "welcome.max_payload", 52, 4)
	c:add(t, "welcome.salt", 56, SALT_LEN)
	if sender ~= 0 then
		c:fail(S.BAD_SENDER, nil, "WELCOME from a connector")
	elseif c:has(40, 16) then
		local dup, ms, mult, max = c:u(40, 4), c:u(44, 4), c:u(48, 4), c:u(52, 4)
		if epoch == 0 then c:fail(S.BAD_FIELD, nil, "epoch 0")
		elseif dup == 0 then c:fail(S.BAD_FIELD, items.dup, "dup_window 0")
		elseif ms == 0 then c:fail(S.BAD_FIELD, items.ms, "keepalive_ms 0")
		elseif mult == 0 then c:fail(S.BAD_FIELD, items.mult, "keepalive_mult 0")
		elseif max > PAYLOAD_MAX then c:fail(S.BAD_FIELD, items.max, "max_payload > 8192") end
	end
	local rs = c:u64(32)
	return " epoch=" .. epoch .. (rs and (" router_seq=" .. tostring(rs)) or "")
end

local function body_keepalive(c, t, seq, sender, epoch)
	c:add(t, "keepalive.clock_us", 16, 8)
	if sender == 0 and epoch == 0 then
		c:gen(t, "keepalive.probe", true)
		return " probe seq=" .. tostring(seq)
	end
	return " seq=" .. tostring(seq)
end

local function body_bye(c, t)
	c:add(t, "bye.reason", 24, 4)
	local zi = c:add(t, "bye.reserved", 28, 4)
	local z = c:u(28, 4)
	if z ~= nil and z ~= 0 then c:fail(S.BAD_FIELD, zi, "Reserved field not zero") end
	local r = c:u(24, 4)
	return r and (" reason=" .. r) or ""
end

local bodies = { [1] = body_data, [2] = body_ack, [3] = body_nack, [4] = body_hello,
	[5] = body_welcome, [6] = body_keepalive, [7] = body_bye }

-- ---- the frame --------------------------------------------------------------------------

local function trailer(c, t, ftype, epoch, tend)
	local off = tend - TRAILER_LEN
	if off < HDR_LEN or not c:has(off, TRAILER_LEN) then return end
	local tt = t:add(c.tvb:range(off, TRAILER_LEN), "Trailer")
	c:add(tt, "trailer.ctr", off, 8)
	local ctr = c:u64(off)
	local hs = ftype == T.HELLO or ftype == T.WELCOME or epoch == 0
	if hs then
		-- A clock or an echo of one (17.8, 17.9): CLOCK_REALTIME in ns.
		local secs, ns = (ctr / NS_PER_S):tonumber(), (ctr % NS_PER_S):tonumber()
		c:gen(tt, "trailer.time", NSTime.new(secs, ns), off, 8)
	else
		local lane = ctr:rshift(56):tonumber()
		local li = c:gen(tt, "trailer.lane", lane, off, 1)
		c:gen(tt, "trailer.count", ctr:band(COUNT_MASK), off + 1, 7)
		local want = (ftype == T.KEEPALIVE or ftype == T.BYE) and 0 or 1
		if types[ftype] and lane ~= want then li:add_proto_expert_info(ef.lane) end
	end
	c:add(tt, "trailer.tag", off + 8, TAG_LEN)
end

local function dissect(tvb, pinfo, tree)
	local c = ctx_new(tvb, pinfo, nil)
	local n, cap = c.n, c.cap
	pinfo.cols.protocol = "GWART"
	local t = tree:add(gwart, tvb:range(0, cap))
	c.tree = t

	if n < HDR_LEN then
		-- Check 1: whatever of the header there is, then the verdict.
		c:add(t, "magic", 0, 2)
		c:add(t, "version", 2, 1)
		c:add(t, "type", 3, 1)
		c:add(t, "length", 4, 2)
		c:fail(S.TRUNCATED, nil, "Datagram of " .. n .. " bytes, a header needs 24")
		c:gen(t, "status", c.status)
		pinfo.cols.info = "Truncated (" .. n .. " bytes)"
		return cap
	end
	if cap < HDR_LEN then
		-- Captured shorter than the header (snap length): nothing to judge.
		t:add_proto_expert_info(ef.snaplen)
		pinfo.cols.info = "Cut by snap length"
		return cap
	end

	local magic, version, ftype = c:u(0, 2), c:u(2, 1), c:u(3, 1)
	local length, flags = c:u(4, 2), c:u(6, 2)
	local sender, epoch, seq = c:u(8, 4), c:u(12, 4), c:u64(16)
	local mi = c:add(t, "magic", 0, 2)
	local vi = c:add(t, "version", 2, 1)
	local ti = c:add(t, "type", 3, 1)
	local leni = c:add(t, "length", 4, 2)
	local fi = c:add(t, "flags", 6, 2)
	c:add(fi, "flags.retransmit", 6, 2)
	c:add(fi, "flags.chunk", 6, 2)
	c:add(fi, "flags.unknown", 6, 2)
	c:add(t, "sender", 8, 4)
	c:add(t, "epoch", 12, 4)
	c:add(t, "seq", 16, 8)

	-- Checks 2-4: magic, version, type, before the length means anything.
	if magic ~= MAGIC then
		c:fail(S.BAD_MAGIC, mi)
	elseif version ~= VERSION then
		c:fail(S.BAD_VERSION, vi, "Version " .. version ..
			(version == 1 and " (no trailer, refused by version 2 routers)" or ""))
	elseif not types[ftype] then
		c:fail(S.BAD_TYPE, ti, "Type " .. ftype)
	end
	if c.status ~= S.OK then
		if cap > HDR_LEN then t:add(pf.body, tvb:range(HDR_LEN, cap - HDR_LEN)) end
		c:gen(t, "status", c.status)
		pinfo.cols.info = statuses[c.status] .. " (" .. n .. " bytes)"
		return cap
	end

	-- Checks 5-7: the declared length against the datagram and the type.
	local need = HDR_LEN + body_len[ftype] + TRAILER_LEN
	if length > n then
		c:fail(S.TRUNCATED, leni, "Length " .. length .. " > datagram " .. n)
	elseif length ~= n then
		c:fail(S.BAD_LENGTH, leni, "Length " .. length .. " < datagram " .. n .. " (trailing bytes)")
	elseif ftype == T.DATA and n >= need and c:has(HDR_LEN + 12, 4) then
		need = need + c:u(HDR_LEN + 12, 2) + c:u(HDR_LEN + 14, 2)
	end
	-- A chunk's extension counts in its length (3.1.1), read before the
	-- flags are judged, as gw_wire_parse() does.
	if ftype == T.DATA and bit32.band(flags, F_CHUNK) ~= 0 then need = need + CHUNK_EXT_LEN end
	if c.status == S.OK and n ~= need then
		c:fail(S.BAD_LENGTH, leni, types[ftype] .. " needs " ..
			(ftype == T.DATA and n < need and "at least " or "") .. need .. " bytes, has " .. n)
	end
	-- Check 8: flags.
	if bit32.band(flags, bit32.bnot(F_KNOWN)) ~= 0 then
		c:fail(S.BAD_FLAGS, fi, string.format("Flags 0x%04x", flags))
	elseif bit32.band(flags, F_CHUNK) ~= 0 and ftype ~= T.DATA then
		c:fail(S.BAD_FLAGS, fi, "CHUNK on " .. types[ftype] .. " (DATA only)")
	elseif bit32.band(flags, F_RETRANSMIT) ~= 0 and ftype ~= T.DATA then
		fi:add_proto_expert_info(ef.flag_ignored)
	end

	-- Generated: who sent it, to which connector it belongs, its key.
	local from_router = sender == 0
	c:gen(t, "from_router", from_router)
	local num = pinfo.number
	local conn = conn_by_frame[num]
	if conn == nil then
		local peer = from_router and (tostring(pinfo.dst) .. ":" .. pinfo.dst_port)
			or (tostring(pinfo.src) .. ":" .. pinfo.src_port)
		if from_router then conn = conn_by_addr[peer] else conn = sender; conn_by_addr[peer] = sender end
		conn_by_frame[num] = conn or false
	end
	if conn then c:gen(t, "conn", conn) end
	local hs = ftype == T.HELLO or ftype == T.WELCOME or epoch == 0
	c:gen(t, "handshake", hs)
	c:gen(t, "tag_key", (hs and "hs." or "s.") .. (from_router and "r2c" or "c2r"))

	-- The body, decoded as far as it is captured, whatever the length said.
	-- The trailer ends the frame at its declared length when the datagram
	-- holds it, else at the datagram's end.
	local tend = (length >= HDR_LEN + TRAILER_LEN and length <= n) and length or n
	local bend = math.min(math.max(tend - TRAILER_LEN, HDR_LEN), cap)
	local bt = t:add(tvb:range(HDR_LEN, bend - HDR_LEN), types[ftype])
	c.tend = tend
	local info = bodies[ftype](c, bt, seq, sender, epoch, flags)
	trailer(c, t, ftype, epoch, tend)
	if length < n and c:has(length, n - length) then
		t:add(pf.trailing, tvb:range(length, n - length))
	end
	if cap < n or c.cut then t:add_proto_expert_info(ef.snaplen) end

	local si = c:gen(t, "status", c.status)
	t:append_text(", " .. types[ftype] .. ", sender " .. sender .. ", seq " .. tostring(seq))
	local s = types[ftype] .. (from_router and " r->c" or " c->r") .. info
	if c.status ~= S.OK then
		s = s .. " [" .. statuses[c.status] .. "]"
		si:append_text(" (gw_wire_parse refuses it)")
	end
	if bit32.band(flags, F_RETRANSMIT) ~= 0 then s = s .. " [RETRANSMIT]" end
	pinfo.cols.info = s
	return cap
end

function gwart.dissector(tvb, pinfo, tree)
	local ok, r = pcall(dissect, tvb, pinfo, tree)
	if ok then return r end
	-- Never a Lua error in the user's face: the bug is reported as expert
	-- info (tests fail on it) and the bytes stay visible.
	local t = tree:add(gwart, tvb:range(0, tvb:len()))
	t:add_proto_expert_info(ef.internal, "gwart dissector bug: " .. tostring(r))
	return tvb:len()
end

function gwart.init()
	conn_by_addr, conn_by_frame = {}, {}
end

local udp_table = DissectorTable.get("udp.port")
local registered_port = DEFAULT_PORT
udp_table:add(registered_port, gwart)

function gwart.prefs_changed()
	if gwart.prefs.udp_port ~= registered_port then
		udp_table:remove(registered_port, gwart)
		registered_port = gwart.prefs.udp_port
		udp_table:add(registered_port, gwart)
	end
end

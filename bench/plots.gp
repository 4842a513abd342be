# SPDX-License-Identifier: BSD-3-Clause
# Plots of a bench/run.sh output directory; bench/report.py calls
#   gnuplot -e "out='OUT_DIR'" bench/plots.gp
# Inputs: OUT_DIR/plot-payload.dat, plot-routes.dat (x, rate, per-core rate,
# millions of messages per second) and plot-cdf-<run>.dat (latency in us,
# cumulative fraction). Outputs: payload.png, routes.png, latency_cdf.png.
set terminal pngcairo size 900,540 font ",11"
set grid
set key top right
set style data linespoints

set output out.'/payload.png'
set title 'gwart inproc: throughput against payload size (1 worker)'
set xlabel 'payload (bytes)'
set ylabel 'million messages / s'
set logscale x 2
plot out.'/plot-payload.dat' using 1:3 title 'per worker core (CPU time)' lw 2 pt 7, \
     out.'/plot-payload.dat' using 1:2 title 'wall clock (shared host)' lw 2 pt 5
unset logscale x

set output out.'/routes.png'
set title 'gwart inproc: throughput against routes (uniform destinations)'
set xlabel 'routes'
set logscale x 10
plot out.'/plot-routes.dat' using 1:3 title 'per worker core (CPU time)' lw 2 pt 7, \
     out.'/plot-routes.dat' using 1:2 title 'wall clock (shared host)' lw 2 pt 5
unset logscale x

set output out.'/latency_cdf.png'
set title 'gwart end-to-end latency (generator stamp to sink delivery)'
set xlabel 'latency (microseconds)'
set ylabel 'fraction of messages'
set logscale x 10
set key bottom right
set yrange [0:1]
set style data lines
files = system('ls '.out.'/plot-cdf-*.dat 2>/dev/null')
plot for [f in files] f using 1:2 title system('basename '.f.' .dat | sed s/plot-cdf-//') lw 2

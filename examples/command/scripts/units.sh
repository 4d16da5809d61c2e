#!/bin/sh
# The units skill: "convert VALUE UNIT" or "count TEXT". Answers JSON on stdout; on a bad
# input, a message the model can act on and exit code 2.
set -eu

convert() {
  awk -v value="$1" -v unit="$2" 'BEGIN {
    if (value !~ /^[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?$/) {
      print "not a number: \"" value "\"" > "/dev/stderr"; exit 2
    }
    v = value + 0
    u = toupper(unit)
    if (u == "C") k = v + 273.15
    else if (u == "F") k = (v - 32) * 5 / 9 + 273.15
    else if (u == "K") k = v
    else {
      print "unknown unit \"" unit "\"\nFallback suggestions:\n- use C, F or K" > "/dev/stderr"; exit 2
    }
    if (k < 0) { print value " " u " is below absolute zero" > "/dev/stderr"; exit 2 }
    printf "{\"celsius\": %.2f, \"fahrenheit\": %.2f, \"kelvin\": %.2f}\n", k - 273.15, (k - 273.15) * 9 / 5 + 32, k
  }'
}

count() {
  printf '%s\n' "$1" | awk '{ words += NF } END { printf "{\"words\": %d, \"lines\": %d}\n", words, NR }'
}

case "${1:-}" in
  convert) convert "${2:-}" "${3:-}" ;;
  count) count "${2:-}" ;;
  *) echo "usage: units.sh convert VALUE UNIT | count TEXT" >&2; exit 2 ;;
esac

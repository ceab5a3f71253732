# bench/lib.sh - what the benchmark scripts share; sourced, not run.
#   median V...       the median of the values (the mean of the middle two for an even count)
#   range V...        "lowest-highest"
#   bench_kizuki [P]  prints the kizuki to measure: P when given, else build/kizuki (built, Release)
#   bench_estate KZ DIR USERS DAYS SEED
#                     `kizuki simulate` into DIR unless an earlier run finished one there

median() {
    printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END {
        if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
range() {
    printf '%s\n' "$@" | sort -g | awk 'NR == 1 { lo = $1 } { hi = $1 } END { print lo "-" hi }'
}
bench_kizuki() {
    local kz=${1:-} root build
    if [ -z "$kz" ]; then
        root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
        build=$root/build
        [ -f "$build/CMakeCache.txt" ] || cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
        cmake --build "$build" -j"$(nproc)" --target kizuki >/dev/null
        kz=$build/kizuki
    fi
    realpath "$kz"
}
bench_estate() {
    local kz=$1 dir=$2
    # scenario.json is written last: without it the folder is a run cut short
    [ -f "$dir/scenario.json" ] && return 0
    rm -rf "$dir"
    "$kz" simulate -o "$dir" --users "$3" --days "$4" --seed "$5" --quiet >/dev/null 2>&1
}

#!/usr/bin/env bash
# Throughput benchmark (not a test): prints requests/s and p50/p99 latency.
#
#   scripts/bench.sh [hot-products|orders|customers|all]     (default: all)
#
# Starts the release server on PostgreSQL + Redis with BENCH_PRODUCTS
# generated products (default 10,000), warms the cache, and drives each query
# with wrk at BENCH_CONNECTIONS connections (default 64) for BENCH_DURATION
# (default 10s). In the same run a bare actix-web handler answering the same
# bytes from memory is measured as the physical baseline; every figure is
# printed with its ratio to it. `orders` runs a flash sale (one SKU with
# BENCH_FLASH_STOCK units, default 1000, and BENCH_BUYERS concurrent buyers,
# default 64, placing until it sells out, then paying what they placed) and
# a spread load over many SKUs for BENCH_SPREAD_SECS (default 10), first
# placing and paying each order, then placing only; each checks that stock
# taken equals orders placed (and paid). Load goes to 127.0.0.1 only.
# `customers` (not part of `all`) fills its own database with
# BENCH_CUSTOMERS customers (default 1,000,000; generate_series SQL, about a
# minute) and times every customer filter BENCH_REPS times (default 50) in
# process (siyu-bench customers), printing p50/p99 per filter.
#
# Needs PostgreSQL (BENCH_PG, default postgres://postgres@127.0.0.1:5432) and
# Redis (BENCH_REDIS, default redis://127.0.0.1:6379). Installs wrk if missing.
# The database is on this machine's loopback, so the server connects without
# TLS (sslmode=disable: encryption there protects nothing and costs both
# sides CPU), and with BENCH_POOL connections (default 8): about four per
# core of the database's machine, which here is also the server's.
set -euo pipefail
cd "$(dirname "$0")/.."

scenario="${1:-all}"
products="${BENCH_PRODUCTS:-10000}"
conns="${BENCH_CONNECTIONS:-64}"
duration="${BENCH_DURATION:-10s}"
pg="${BENCH_PG:-postgres://postgres@127.0.0.1:5432}"
redis_url="${BENCH_REDIS:-redis://127.0.0.1:6379}"
target="${CARGO_TARGET_DIR:-target}"
api_port=18080
base_port=18081

case "$scenario" in
  hot-products|orders|customers|all) ;;
  *) echo "unknown scenario $scenario (hot-products, orders, customers, all)" >&2; exit 2 ;;
esac

if ! command -v wrk >/dev/null; then
  echo "installing wrk…" >&2
  (apt-get update -qq && apt-get install -y -qq wrk) >/dev/null
fi
command -v psql >/dev/null || { apt-get update -qq && apt-get install -y -qq postgresql-client >/dev/null; }

echo "building the release server…" >&2
cargo build --release -q --bins
bin="$target/release/siyu"
bench="$target/release/siyu-bench"

work="$(mktemp -d)"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

db="siyu_bench"
psql "$pg/postgres" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null
psql "$pg/postgres" -qc "CREATE DATABASE $db" >/dev/null
export DATABASE_URL="$pg/$db?sslmode=disable" DATABASE_MAX_CONNECTIONS="${BENCH_POOL:-8}" \
  REDIS_URL="$redis_url" CACHE_PREFIX="bench:$$" SEED_DEMO=false \
  JWT_SECRET="bench-secret-bench-secret-bench-secret-0" RUST_LOG=warn LOGIN_RATE_LIMIT_PER_MIN=0 GRAPHQL_RATE_LIMIT_PER_MIN=0 ORDER_RATE_LIMIT_PER_MIN=0 MAX_UNPAID_ORDERS_PER_CUSTOMER=0 MAX_UNPAID_UNITS_PER_SKU=0 \
  ADMIN_USERNAME=bench ADMIN_PASSWORD=bench-password-0 JOBS=false

if [ "$scenario" = customers ]; then
  echo "generating ${BENCH_CUSTOMERS:-1000000} customers…" >&2
  "$bench" customers "${BENCH_CUSTOMERS:-1000000}" "${BENCH_REPS:-50}"
  echo
  echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg); PostgreSQL, in-process timing of the service (no HTTP)"
  exit 0
fi

echo "seeding $products products…" >&2
"$bench" seed-bulk "$products"

BIND="127.0.0.1:$api_port" "$bin" &
pids+=($!)
for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$api_port/healthz" >/dev/null && break; sleep 0.1; done

if [ "$scenario" = orders ] || [ "$scenario" = all ]; then
  echo "order load…" >&2
  "$bench" orders "http://127.0.0.1:$api_port" "${BENCH_BUYERS:-64}" "${BENCH_FLASH_STOCK:-1000}" 100 "${BENCH_SPREAD_SECS:-10}"
  [ "$scenario" = orders ] && exit 0
fi

gql() { # query → body file
  python3 -c 'import json,sys; print(json.dumps({"query": sys.argv[1]}))' "$1"
}
post() { curl -fs "http://127.0.0.1:$api_port/graphql" -H 'content-type: application/json' --data-binary "@$1"; }

some_id=$(gql '{ products(first: 1, sort: PRICE_ASC) { nodes { id } } }' > "$work/q0.json"; post "$work/q0.json" | python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["products"]["nodes"][0]["id"])')

declare -A queries=(
  [hotProducts]='{ hotProducts(limit: 20) { id title images minPriceFen skus { id specs { name value } priceFen stock } } }'
  [product]="{ product(id: \"$some_id\") { id title images minPriceFen skus { id specs { name value } priceFen stock } } }"
  [products]='{ products(first: 20) { nodes { id title images minPriceFen skus { id specs { name value } priceFen stock } } } }'
)
order=(hotProducts product products)

for name in "${order[@]}"; do
  gql "${queries[$name]}" > "$work/$name.json"
  for _ in 1 2 3; do post "$work/$name.json" > "$work/$name.out"; done
  grep -q '"errors"' "$work/$name.out" && { echo "$name failed: $(cat "$work/$name.out")" >&2; exit 1; }
  cat > "$work/$name.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local f = io.open("$work/$name.json", "rb"); wrk.body = f:read("*a"); f:close()
LUA
done

"$bench" baseline "127.0.0.1:$base_port" "$work/hotProducts.out" &
pids+=($!)
for _ in $(seq 1 100); do curl -fs -XPOST "http://127.0.0.1:$base_port/" >/dev/null && break; sleep 0.1; done

# wrk prints latency like 812.00us / 1.23ms / 1.01s: convert to ms.
to_ms() { awk -v v="$1" 'BEGIN { n = v + 0; if (v ~ /us$/) n /= 1000; else if (v ~ /ms$/) n *= 1; else if (v ~ /s$/) n *= 1000; printf "%.2f", n }'; }

run() { # name url lua → "rps p50 p99"
  local out
  out=$(wrk -t2 -c"$conns" -d"$duration" --latency -s "$3" "$2")
  local rps p50 p99 errors
  rps=$(awk '/Requests\/sec/ { print $2 }' <<<"$out")
  p50=$(to_ms "$(awk '$1 == "50%" { print $2 }' <<<"$out")")
  p99=$(to_ms "$(awk '$1 == "99%" { print $2 }' <<<"$out")")
  errors=$(awk '/Non-2xx|Socket errors/ { print }' <<<"$out")
  [ -z "$errors" ] || echo "$1: $errors" >&2
  echo "$rps $p50 $p99"
}

echo "measuring (${conns} connections, ${duration} each)…" >&2
read -r b_rps b_p50 b_p99 <<<"$(run baseline "http://127.0.0.1:$base_port/graphql" "$work/hotProducts.lua")"
printf '\n%-34s %12s %9s %9s %10s\n' "scenario" "requests/s" "p50 ms" "p99 ms" "vs base"
printf '%-34s %12.0f %9s %9s %10s\n' "baseline (bare actix, same bytes)" "$b_rps" "$b_p50" "$b_p99" "100%"
for name in "${order[@]}"; do
  read -r rps p50 p99 <<<"$(run "$name" "http://127.0.0.1:$api_port/graphql" "$work/$name.lua")"
  ratio=$(awk -v a="$rps" -v b="$b_rps" 'BEGIN { printf "%.0f%%", 100 * a / b }')
  label="$name"
  case "$name" in
    hotProducts) label="hotProducts(limit: 20) [cache]" ;;
    product) label="product(id) [cache]" ;;
    products) label="products(first: 20) [cache]" ;;
  esac
  printf '%-34s %12.0f %9s %9s %10s\n' "$label" "$rps" "$p50" "$p99" "$ratio"
done
echo
echo "machine: $(nproc) cores; $products products on PostgreSQL, cache in Redis; wrk -t2 -c$conns -d$duration"

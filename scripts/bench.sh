#!/usr/bin/env bash
# Throughput benchmark (not a test): prints requests/s and p50/p99 latency.
#
#   scripts/bench.sh [hot-products|orders|customers|all]     (default: all)
#
# Starts the release server on PostgreSQL + Redis with BENCH_PRODUCTS
# generated products (default 10,000) and BENCH_HISTORY past orders (default
# 20,000: the order tables of a store that has been selling, analyzed before
# the server starts), warms the cache, and drives each query
# with wrk at BENCH_CONNECTIONS connections (default 64) for BENCH_DURATION
# (default 10s). `hot-products` measures the catalogue reads: plain and
# client-shaped documents (fragments, aliases, __typename) from the response
# cache, and pages executed by a second instance with that cache off. Before
# and after each one, a bare actix-web handler answering the same bytes from
# memory (reading the request body, as many workers as the API: BENCH_WORKERS,
# default one per core) is measured as the physical baseline; every figure is
# printed with its ratio to the better of the two, a figure above it is
# flagged and fails the run (the baseline is the upper bound: above it, the
# comparison is wrong), and the servers' peak memory (RSS) must stay under
# BENCH_MAX_RSS_MB (default 100) or the run fails. `orders` runs a flash sale (one SKU with
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
# The /graphql rate limit stays on (counted as in production, in process
# and reported to Redis in batches), set far above what wrk's one address
# sends, so that its cost is in every figure.
set -euo pipefail
cd "$(dirname "$0")/.."

scenario="${1:-all}"
products="${BENCH_PRODUCTS:-10000}"
history="${BENCH_HISTORY:-20000}"
conns="${BENCH_CONNECTIONS:-64}"
duration="${BENCH_DURATION:-10s}"
pg="${BENCH_PG:-postgres://postgres@127.0.0.1:5432}"
redis_url="${BENCH_REDIS:-redis://127.0.0.1:6379}"
target="${CARGO_TARGET_DIR:-target}"
# Two runs on one machine must not share a database or ports: BENCH_DB and
# BENCH_PORT (the API; the next two ports serve the baseline and the
# executed-path instance) set them apart.
api_port="${BENCH_PORT:-18080}"
base_port=$((api_port + 1))
exec_port=$((api_port + 2))

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

db="${BENCH_DB:-siyu_bench}"
psql "$pg/postgres" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null
psql "$pg/postgres" -qc "CREATE DATABASE $db" >/dev/null
export DATABASE_URL="$pg/$db?sslmode=disable" DATABASE_MAX_CONNECTIONS="${BENCH_POOL:-8}" \
  REDIS_URL="$redis_url" CACHE_PREFIX="bench:$$" SEED_DEMO=false \
  JWT_SECRET="bench-secret-bench-secret-bench-secret-0" RUST_LOG=warn LOGIN_RATE_LIMIT_PER_MIN=0 GRAPHQL_RATE_LIMIT_PER_MIN=4000000000 ORDER_RATE_LIMIT_PER_MIN=0 MAX_UNPAID_ORDERS_PER_CUSTOMER=0 MAX_UNPAID_UNITS_PER_SKU=0 \
  ADMIN_USERNAME=bench ADMIN_PASSWORD=bench-password-0 JOBS=false
# Every server (the API instances and the baseline) runs this many HTTP workers.
export WORKERS="${BENCH_WORKERS:-$(nproc)}"

if [ "$scenario" = customers ]; then
  echo "generating ${BENCH_CUSTOMERS:-1000000} customers…" >&2
  "$bench" customers "${BENCH_CUSTOMERS:-1000000}" "${BENCH_REPS:-50}"
  echo
  echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg); PostgreSQL, in-process timing of the service (no HTTP)"
  exit 0
fi

echo "seeding $products products and $history past orders…" >&2
"$bench" seed-bulk "$products"
# A store that has been selling: the order load then meets order tables the
# planner knows are not empty (see src/bin/siyu-bench/history.rs).
"$bench" seed-history "$history"
# Planner statistics for the fresh tables now, not whenever autovacuum
# gets to them: an executed page costs a third less once they exist.
psql "$pg/$db" -qc ANALYZE

BIND="127.0.0.1:$api_port" "$bin" &
pids+=($!)
api_pid=$!
for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$api_port/healthz" >/dev/null && break; sleep 0.1; done

if [ "$scenario" = orders ] || [ "$scenario" = all ]; then
  echo "order load…" >&2
  "$bench" orders "http://127.0.0.1:$api_port" "${BENCH_BUYERS:-64}" "${BENCH_FLASH_STOCK:-1000}" 100 "${BENCH_SPREAD_SECS:-10}"
  # What the order load cost the server: memory, statements, batch sizes.
  order_metric() { curl -fs "http://127.0.0.1:$api_port/metrics" | awk -v m="$1" 'index($0, m) == 1 { s += $NF } END { printf "%d", s }'; }
  mean() { awk -v s="$(order_metric "$1_sum")" -v n="$(order_metric "$1_count")" 'BEGIN { printf "%d batches, %.1f per batch", n, (n ? s / n : 0) }'; }
  echo
  echo "server: RSS $(awk '/^VmRSS:/ { printf "%.0f", $2 / 1024 }' "/proc/$api_pid/status") MB now, $(awk '/^VmHWM:/ { printf "%.0f", $2 / 1024 }' "/proc/$api_pid/status") MB peak; SQL statements $(order_metric siyu_db_statements_total); orders placed in $(mean siyu_order_batch_orders); payments confirmed in $(mean siyu_payment_batch_payments)"
  echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg) at the end; PostgreSQL (pool ${BENCH_POOL:-8}), ${BENCH_BUYERS:-64} buyers"
  [ "$scenario" = orders ] && exit 0
fi

# ---------------------------------------------------------------- catalogue
# Each read scenario is measured between two runs of a bare actix-web
# handler answering that scenario's own bytes (interleaved, so a machine
# whose speed drifts moves both figures together), and shown as a ratio to
# the better of them.
# "[cache]" scenarios are answered by the response cache; "[executed]" ones
# go to a second instance with the response cache off (RESPONSE_CACHE_MAX_BYTES=0),
# so every request is parsed, checked and run by GraphQL, as a document
# the cache has not seen does: a product from its entry cache, a shopper's
# page from the rows kept per catalogue generation (read with SQL once per
# generation). "[executed, SQL]" is the same page asked by ADMIN, whose
# pages are read from the database every time (two statements), as every
# shopper's first read of a page after a change is.
RESPONSE_CACHE_MAX_BYTES=0 BIND="127.0.0.1:$exec_port" "$bin" &
pids+=($!)
exec_pid=$!
for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$exec_port/healthz" >/dev/null && break; sleep 0.1; done

novars='{}'
gql() { # query [variables JSON] → body
  python3 -c 'import json,sys; print(json.dumps({"query": sys.argv[1], "variables": json.loads(sys.argv[2])}))' "$1" "${2:-$novars}"
}
post() { curl -fs "http://127.0.0.1:$2/graphql" -H 'content-type: application/json' ${3:+-H "authorization: Bearer $3"} --data-binary "@$1"; }

some_id=$(gql '{ products(first: 1, sort: PRICE_ASC) { nodes { id } } }' > "$work/q0.json"; post "$work/q0.json" "$api_port" | python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["products"]["nodes"][0]["id"])')

fields='id title images minPriceFen skus { id specs { name value } priceFen stock }'
# What the mini-program sends: named operations, fragments, aliases, __typename.
card='fragment Card on Product { id title images minPriceFen skus { ...SkuPart __typename } __typename } fragment SkuPart on Sku { id specs { name value } priceFen stock }'
declare -A queries=(
  [hotProducts]="{ hotProducts(limit: 20) { $fields } }"
  [hotFragment]="query HomePage { hot: hotProducts(limit: 20) { ...Card } } $card"
  [product]="{ product(id: \"$some_id\") { $fields } }"
  [productFragment]="query ProductDetail(\$id: ID!) { product(id: \$id) { ...Card } } $card"
  [products]="{ products(first: 20) { nodes { $fields } } }"
  [productsFragment]="query ProductList(\$first: Int, \$after: String) { products(first: \$first, after: \$after) { totalCount pageInfo { hasNextPage endCursor } items: nodes { ...Card } } } $card"
)
declare -A variables=(
  [productFragment]="{\"id\": \"$some_id\"}"
  [productsFragment]='{"first": 20}'
)
declare -A labels=(
  [hotProducts]="hotProducts(limit: 20) [cache]"
  [hotFragment]="hotProducts, client-shaped [cache]"
  [product]="product(id) [cache]"
  [productFragment]="product(id), fragment [cache]"
  [products]="products(first: 20) [cache]"
  [productsFragment]="products page, fragment [cache]"
  [productFragment@exec]="product(id), fragment [executed]"
  [productsFragment@exec]="products page, fragment [executed]"
  [productsFragment@staff]="products page, ADMIN [executed, SQL]"
)
order=(hotProducts hotFragment product productFragment products productsFragment productFragment@exec productsFragment@exec productsFragment@staff)

mkdir -p "$work/bytes"
for name in "${!queries[@]}"; do
  gql "${queries[$name]}" "${variables[$name]:-$novars}" > "$work/$name.json"
  for port in "$api_port" "$exec_port"; do
    for _ in 1 2 3; do post "$work/$name.json" "$port" > "$work/$name.$port.out"; done
    grep -q '"errors"' "$work/$name.$port.out" && { echo "$name failed: $(cat "$work/$name.$port.out")" >&2; exit 1; }
  done
  # Equal as JSON: the first execution of a page may order its object keys
  # differently (totalCount last) from later ones; the values must match.
  python3 -c 'import json,sys; sys.exit(json.load(open(sys.argv[1])) != json.load(open(sys.argv[2])))' \
    "$work/$name.$api_port.out" "$work/$name.$exec_port.out" || { echo "$name: cached and executed answers differ" >&2; exit 1; }
  cp "$work/$name.$api_port.out" "$work/bytes/$name"
  cat > "$work/$name.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local f = io.open("$work/$name.json", "rb"); wrk.body = f:read("*a"); f:close()
LUA
done

# ADMIN's page: the same products (all on shelf), so the same bytes.
gql 'mutation($u: String!, $p: String!) { adminLogin(username: $u, password: $p) { accessToken } }' \
  "{\"u\": \"$ADMIN_USERNAME\", \"p\": \"$ADMIN_PASSWORD\"}" > "$work/login.json"
admin_token=$(post "$work/login.json" "$exec_port" | python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["adminLogin"]["accessToken"])')
post "$work/productsFragment.json" "$exec_port" "$admin_token" > "$work/productsFragment.staff.out"
python3 -c 'import json,sys; sys.exit(json.load(open(sys.argv[1])) != json.load(open(sys.argv[2])))' \
  "$work/productsFragment.$api_port.out" "$work/productsFragment.staff.out" || { echo "ADMIN's page differs from a shopper's: $(cat "$work/productsFragment.staff.out")" >&2; exit 1; }
sed 's/^wrk.method = "POST"$/&\nwrk.headers["Authorization"] = "Bearer '"$admin_token"'"/' "$work/productsFragment.lua" > "$work/productsFragment.staff.lua"

# The baseline answers /NAME with that scenario's bytes.
"$bench" baseline "127.0.0.1:$base_port" "$work/bytes" &
pids+=($!)
for _ in $(seq 1 100); do curl -fs -XPOST "http://127.0.0.1:$base_port/hotProducts" >/dev/null && break; sleep 0.1; done

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
rss_mb() { awk '/^'"$2"':/ { printf "%.0f", $2 / 1024 }' "/proc/$1/status"; }
counter() { # port metric-line-prefix → summed value
  curl -fs "http://127.0.0.1:$1/metrics" | awk -v m="$2" 'index($0, m) == 1 { s += $NF } END { printf "%d", s }'
}

echo "measuring (${conns} connections, ${duration} each, baseline before and after each)…" >&2
printf '\n%-36s %10s %8s %8s | %10s %8s | %8s %9s\n' "scenario" "req/s" "p50 ms" "p99 ms" "base req/s" "base p99" "vs base" "p99 x base"
above=0
for entry in "${order[@]}"; do
  name="${entry%@*}"
  port="$api_port"; [ "$entry" != "$name" ] && port="$exec_port"
  script="$work/$name.lua"; [ "$entry" = "$name@staff" ] && script="$work/$name.staff.lua"
  read -r b1_rps _ b1_p99 <<<"$(run "baseline $name" "http://127.0.0.1:$base_port/$name" "$work/$name.lua")"
  read -r rps p50 p99 <<<"$(run "$entry" "http://127.0.0.1:$port/graphql" "$script")"
  read -r b2_rps _ b2_p99 <<<"$(run "baseline $name" "http://127.0.0.1:$base_port/$name" "$work/$name.lua")"
  # The bound is the better of the two baseline runs around the scenario,
  # each figure on its own (the higher requests/s, the lower p99), so a
  # machine slowing down or a hiccup in one baseline run cannot lift it.
  read -r b_rps b_p99 <<<"$(awk -v a="$b1_rps" -v ap="$b1_p99" -v b="$b2_rps" -v bp="$b2_p99" 'BEGIN { print (b > a ? b : a), (bp + 0 < ap + 0 ? bp : ap) }')"
  ratio=$(awk -v a="$rps" -v b="$b_rps" 'BEGIN { printf "%.0f%%", 100 * a / b }')
  tail_ratio=$(awk -v a="$p99" -v b="$b_p99" 'BEGIN { printf "%.1f", a / b }')
  flag=""
  if awk -v a="$rps" -v b="$b_rps" 'BEGIN { exit !(a > b) }'; then
    flag="  << ABOVE ITS BASELINE"
    above=$((above + 1))
  fi
  printf '%-36s %10.0f %8s %8s | %10.0f %8s | %8s %9s%s\n' "${labels[$entry]}" "$rps" "$p50" "$p99" "$b_rps" "$b_p99" "$ratio" "$tail_ratio" "$flag"
done
echo
# Memory: each server's RSS now and at its peak, which must stay under
# BENCH_MAX_RSS_MB (default 100).
max_rss="${BENCH_MAX_RSS_MB:-100}"
heavy=0
for p in "api:$api_pid:$api_port" "executed:$exec_pid:$exec_port"; do
  IFS=: read -r what pid port <<<"$p"
  peak=$(rss_mb "$pid" VmHWM)
  verdict="under $max_rss MB"
  if [ "$peak" -ge "$max_rss" ]; then verdict="OVER $max_rss MB"; heavy=$((heavy + 1)); fi
  echo "server ($what): RSS $(rss_mb "$pid" VmRSS) MB now, $peak MB peak ($verdict); SQL statements $(counter "$port" siyu_db_statements_total); response cache hits $(counter "$port" 'siyu_response_cache_total{result="hit"}'), misses $(counter "$port" 'siyu_response_cache_total{result="miss"}')"
done
echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg) at the end; $products products on PostgreSQL, cache in Redis; wrk -t2 -c$conns -d$duration; $WORKERS HTTP workers per server"
status=0
if [ "$above" -gt 0 ]; then
  echo "FAILED: $above figure(s) above the bare handler measured around them. The baseline is the upper bound of the read path (same bytes, same workers, same machine, interleaved): a figure above it means the comparison is wrong, not that the API is fast." >&2
  status=1
fi
if [ "$heavy" -gt 0 ]; then
  echo "FAILED: $heavy server(s) peaked at $max_rss MB of RSS or more." >&2
  status=1
fi
exit "$status"

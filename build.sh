#!/usr/bin/env bash
# build.sh builds and runs everything. See README.md.
#   ./build.sh          build bin/kycvs (and the wasm artefacts)
#   ./build.sh run      start the demo issuer (kycvs serve --demo)
#   ./build.sh test     run every test stage (go, issuer, js, browser, worker); a failed stage
#                       does not stop the others, and the run ends with the failed stages and
#                       the command that reruns each alone: ./build.sh test STAGE...
#   ./build.sh run      (KYCVS_ADDR=127.0.0.1:9000 moves the demo: address, issuer URL, origins)
#   ./build.sh static DIR  write the demo as a static site for any host (see README)
#   ./build.sh bench    run the benchmarks and print side-by-side tables
set -euo pipefail
cd "$(dirname "$0")"
ROOT=$PWD
export GOFLAGS=${GOFLAGS:-}

log() { printf '\n==> %s\n' "$*" >&2; }

# ---- test stages ----
# TEST_STAGES: the stages of ./build.sh test, in order; stage_NAME runs one.
# Each runs in its own subshell under set -e, so one failure ends that stage
# only; the run then names every failed stage and how to rerun it alone.
TEST_STAGES="go issuer js browser worker"
stage_go() { test_go; }
stage_issuer() { test_issuer_extra; }
stage_js() { test_js; }
stage_browser() { test_browser_demo; }
stage_worker() { test_worker; }

check_stages() {
	local s
	for s in "$@"; do
		if ! declare -F "stage_$s" >/dev/null; then
			echo "build.sh test: no stage $s (stages: $TEST_STAGES)" >&2
			exit 2
		fi
	done
}

run_stages() {
	local s rc failed=()
	for s in "$@"; do
		log "stage $s"
		set +e
		(set -e; "stage_$s")
		rc=$?
		set -e
		if [ $rc -ne 0 ]; then
			printf '\n==> stage %s FAILED (exit %d); rerun it alone: ./build.sh test %s\n' "$s" "$rc" "$s" >&2
			failed+=("$s")
		fi
	done
	if [ ${#failed[@]} -ne 0 ]; then
		printf '\n==> FAILED stages: %s\n' "${failed[*]}" >&2
		for s in "${failed[@]}"; do printf '    ./build.sh test %s\n' "$s" >&2; done
		return 1
	fi
}

# ---- core (lead) ----
build_go() {
	mkdir -p bin
	go build -trimpath -o bin/kycvs ./issuer/cmd/kycvs
}

test_go() {
	log "go vet"
	go vet ./...
	log "gofmt"
	local unformatted
	unformatted=$(gofmt -l $(git ls-files '*.go') 2>/dev/null || true)
	if [ -n "$unformatted" ]; then echo "gofmt would change: $unformatted" >&2; return 1; fi
	log "go generate is clean"
	check_generate
	log "staticcheck (native, and GOOS=js for wasm/)"
	GOBIN="$ROOT/bin" go install honnef.co/go/tools/cmd/staticcheck@v0.8.2
	bin/staticcheck ./...
	GOOS=js GOARCH=wasm bin/staticcheck ./wasm/... ./internal/wasmcrash
	log "go test"
	# demo/e2e (headless Chromium) runs once, in test_browser_demo, with screenshots.
	# The PostgreSQL restart test stops the shared server: never beside the
	# other packages' PostgreSQL tests (a parallel e2e run once got 503).
	KYCVS_TEST_PG_RESTART= go test -count=1 $(go list ./... | grep -v '/demo/e2e$')
	if [ -n "${KYCVS_TEST_PG_RESTART:-}" ]; then
		log "PostgreSQL restarts under traffic, alone"
		go test -count=1 -run '^TestRestart$' ./issuer/store/pgstore
	fi
	log "fuzz smoke"
	fuzz_smoke
	if [ "${CI:-}" = true ] || [ -n "${KYCVS_FULL:-}" ]; then
		log "ed25519fast against crypto/ed25519: 1,000,000 random cases (CI, or KYCVS_FULL=1)"
		ED25519FAST_CASES=1000000 go test -count=1 -timeout 30m -run '^TestVerifyDifferential$' ./internal/ed25519fast
	fi
}

check_generate() {
	go generate ./...
	if [ -n "$(git status --porcelain -- '*.go' testdata)" ]; then
		git status --porcelain -- '*.go' testdata >&2
		git diff --stat >&2
		echo "go generate ./... changed committed files: regenerate and commit them" >&2
		return 1
	fi
}

# Every fuzz target, briefly (FUZZTIME, default 10s each); a crash fails the run.
fuzz_smoke() {
	# Budgets are executions, not durations: a duration's deadline races
	# the fuzzing workers in Go 1.26 (go.dev/issue/75804, fixed in 1.27) and
	# a loaded run failed twice with "context deadline exceeded" and no
	# failing input. Each is about 5 s here idle, 10 s with two busy CPUs.
	# FUZZTIME (a duration or Nx) overrides them all.
	local target pkg f n t out
	for target in .:FuzzVerify:100000 .:FuzzParseKeySet:80000 .:FuzzDecodeClaims:100000 ./internal/b64:FuzzDecode:80000 \
		./internal/strictjson:FuzzParse:200000 ./internal/wire:FuzzSkipAgreesWithMsgp:400000 ./internal/ed25519fast:FuzzVerify:25000 \
		./internal/ed25519fast:FuzzScReduce:300000 ./internal/ed25519fast:FuzzSHA512RAM:15000 \
		.:FuzzFreshness:100000 ./gate:FuzzTokenOf:80000 ./issuer/internal/jsonbody:FuzzDecode:100000; do
		pkg=${target%%:*} f=${target#*:} n=${f#*:} f=${f%%:*}
		t=${FUZZTIME:-${n}x}
		# Quiet when it passes; when it fails, what the fuzzer said (the
		# failing input's file, or why the engine stopped) is the report.
		if ! out=$(go test -run='^$' -fuzz="^$f\$" -fuzztime="$t" "$pkg" 2>&1); then
			printf '%s\n' "$out" | tail -40 >&2
			echo "fuzz $pkg $f: FAILED" >&2
			return 1
		fi
		echo "fuzz $pkg $f: ok ($t)"
	done
}

# Native Go, one go test run: the whole token verification against go-jose's
# parse + verify + msgpack decode and against the bare signature checks.
bench_go() {
	log "native verify, side by side (go test -bench, median of ${BENCH_COUNT:-5})"
	go test -run='^$' -bench='^BenchmarkVerify$' -benchmem -count="${BENCH_COUNT:-5}" . >bin/bench-go.raw
	awk '
		/^BenchmarkVerify\// {
			name = $1; sub(/^BenchmarkVerify\//, "", name); sub(/-[0-9]+$/, "", name)
			name = (name ~ /^ed25519/ ? "signature only: " : "whole token: ") (name == "ed25519" ? "crypto/ed25519" : name)
			if (!(name in n)) order[++k] = name
			ns[name, ++n[name]] = $3; allocs[name] = $7
		}
		function median(name,   i, j, t, a, c) {
			c = n[name]; for (i = 1; i <= c; i++) a[i] = ns[name, i]
			for (i = 1; i <= c; i++) for (j = i + 1; j <= c; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
			return a[int((c + 1) / 2)]
		}
		END {
			base = median("whole token: kycvs")
			printf "%-36s %12s %10s %18s\n", "same token", "ns/op", "allocs/op", "time / kycvs"
			for (i = 1; i <= k; i++) { m = median(order[i]); printf "%-36s %12.0f %10s %17.2fx\n", order[i], m, allocs[order[i]], m / base }
			printf "\nkycvs vs go-jose (target: not slower):                 %.2fx faster\n", median("whole token: go-jose") / base
			printf "kycvs vs crypto/ed25519.Verify alone (target >= 1.8x): %.2fx faster\n", median("signature only: crypto/ed25519") / base
			printf "kycvs allocations per verify (target < 20):            %s\n", allocs["whole token: kycvs"]
		}' bin/bench-go.raw | tee bin/bench-go.txt
}

# ---- wasm + verifierjs (issue 3) ----
build_wasm() {
	log "wasm verifier -> verifierjs/kycvs.wasm"
	GOOS=js GOARCH=wasm go build -tags kycvs_noremote -trimpath -ldflags='-s -w' -o verifierjs/kycvs.wasm ./wasm/verifier
	# The toolchain's wasm_exec.js, verbatim, inside an ES module that gives it
	# a private global: it then defines no Go, fs, process or path on the page.
	local src goversion
	src="$(go env GOROOT)/lib/wasm/wasm_exec.js"
	goversion=$(go env GOVERSION)
	{
		printf '// Generated by build.sh: %s/lib/wasm/wasm_exec.js of %s, verbatim between\n' '$(go env GOROOT)' "$goversion"
		printf '// the markers, run against a private global object instead of globalThis.\n'
		printf 'const own = {};\n'
		printf 'const g = new Proxy(globalThis, {\n'
		printf '\tget: (t, k) => (Object.hasOwn(own, k) ? own[k] : t[k]),\n'
		printf '\tset: (t, k, v) => ((own[k] = v), true),\n'
		printf '\thas: (t, k) => Object.hasOwn(own, k) || k in t,\n'
		printf '});\n'
		printf 'let fs;\n'
		printf '(function (globalThis) {\n// ---- begin wasm_exec.js ----\n'
		cat "$src"
		printf '// ---- end wasm_exec.js ----\n})(g);\n'
		printf 'fs = own.fs || globalThis.fs;\n'
		printf 'export const Go = own.Go;\n'
	} >verifierjs/wasm_exec.js
}

test_js() {
	log "wasm/verifier: the ABI, in Go under GOOS=js"
	GOOS=js GOARCH=wasm go test -tags kycvs_noremote -count=1 -exec="$(go env GOROOT)/lib/wasm/go_js_wasm_exec" ./wasm/verifier
	log "verifierjs: node --test (vectors, kycvs sign interop with panva/jose, strict cases, headless Chromium, workerd)"
	(cd verifierjs && npm ci --no-audit --no-fund --loglevel=error && node --test --test-reporter=spec test/*.test.js)
}

bench_js() {
	log "verifierjs vs panva/jose, side by side in one Node process"
	(cd verifierjs && { [ -d node_modules ] || npm ci --no-audit --no-fund --loglevel=error; } && node bench/bench.js) | tee "$ROOT/bin/bench-js.txt"
}

# ---- issuer (issue 4) ----
test_issuer_extra() {
	# go test ./... already ran issuer/e2e against a plain binary; run the flow
	# tests again against a kycvs built with -race (a race fails the test).
	log "issuer e2e against kycvs built with -race"
	KYCVS_E2E_RACE=1 go test -count=1 -short -run 'API|Unregistered|WrongOTP|Auth|Limits|CrashDuringConfirmations' ./issuer/e2e/
}
bench_issuer() {
	# KYCVS_BENCH_PEOPLE (default 1000000, the issue's registry size);
	# KYCVS_BENCH_CONC (32) clients for KYCVS_BENCH_SECONDS (10).
	log "issuer: import rate, complete flows per second with p50/p99 (${KYCVS_BENCH_PEOPLE:-1000000} people)"
	go test -count=1 -run '^$' -bench '^BenchmarkIssuer$' -benchtime 1x -timeout 60m -v ./issuer/e2e/ | grep -v -e '^=== ' -e '^goos' -e '^goarch' -e '^pkg' -e '^cpu' | tee "$ROOT/bin/bench-issuer.txt"
}

# ---- embed + demo (issue 5) ----
# demo/vendor/kycvs-verifier: the copy of verifierjs the static demo imports
build_demo() {
	mkdir -p demo/vendor/kycvs-verifier
	cp verifierjs/index.js verifierjs/remote.js verifierjs/wasm_exec.js verifierjs/kycvs.wasm demo/vendor/kycvs-verifier/
}
# ./build.sh static DIR --issuer URL --client-id ID (or KYCVS_ISSUER,
# KYCVS_CLIENT_ID): the demo as a self-contained static site any host can
# serve: the pages, verifierjs in vendor/kycvs-verifier, and site.js with the
# issuer and client id. Register the host's origin for the client with
# kycvs client add --origin (README: "Host the demo anywhere").
build_static() {
	local dir=${1:-} issuer=${KYCVS_ISSUER:-} client=${KYCVS_CLIENT_ID:-}
	local usage='usage: ./build.sh static DIR --issuer URL --client-id ID (or KYCVS_ISSUER, KYCVS_CLIENT_ID)'
	if [ -z "$dir" ] || [ "${dir#-}" != "$dir" ]; then echo "$usage" >&2; exit 2; fi
	shift
	while [ $# -gt 0 ]; do
		case "$1" in
		--issuer) issuer=${2:-}; shift 2 || shift ;;
		--issuer=*) issuer=${1#*=}; shift ;;
		--client-id) client=${2:-}; shift 2 || shift ;;
		--client-id=*) client=${1#*=}; shift ;;
		*) echo "$usage" >&2; exit 2 ;;
		esac
	done
	issuer=${issuer%/}
	if ! [[ $issuer =~ ^https?://[A-Za-z0-9.-]+(:[0-9]+)?(/[A-Za-z0-9._~/-]*)?$ ]]; then
		echo "./build.sh static: --issuer ${issuer:-(none)}: want the issuer's URL, http(s)://host[:port][/path]" >&2
		exit 2
	fi
	if ! [[ $client =~ ^[a-z0-9._-]{1,64}$ ]]; then
		echo "./build.sh static: --client-id ${client:-(none)}: want the client id kycvs client add registered ([a-z0-9._-], at most 64)" >&2
		exit 2
	fi
	build_wasm
	mkdir -p "$dir/vendor/kycvs-verifier"
	cp demo/*.html demo/*.js demo/*.css "$dir/"
	cp verifierjs/index.js verifierjs/remote.js verifierjs/wasm_exec.js verifierjs/kycvs.wasm "$dir/vendor/kycvs-verifier/"
	printf '// Written by ./build.sh static: the issuer and the client id of this copy of the demo.\nexport const site = { issuer: "%s", clientId: "%s" };\n' "$issuer" "$client" >"$dir/site.js"
	log "static demo in $dir (issuer $issuer, client $client): serve it from an origin registered for $client"
}
# the demo and the embedded page in real headless Chromium against bin/kycvs serve --demo;
# screenshots go to $KYCVS_SCREENSHOTS (default bin/screenshots; docs/screenshots is the committed set)
test_browser_demo() {
	build_demo
	log "embed + demo: headless Chromium against bin/kycvs serve --demo (axe-core: WCAG 2.1 A/AA)"
	(cd demo/e2e && npm ci --no-audit --no-fund --loglevel=error)
	go test -count=1 ./issuer/embed/
	KYCVS_BIN=$ROOT/bin/kycvs KYCVS_SCREENSHOTS=${KYCVS_SCREENSHOTS:-$ROOT/bin/screenshots} go test -count=1 -v -run Browser ./demo/e2e/
}

# ---- edge worker (issue 6) ----
# bin/worker: app.wasm (GOOS=js), wasm_exec.js (this Go's), worker.mjs (our one-instance shim)
build_worker() {
	log "edge worker -> bin/worker"
	if [ ! wasm/worker/node_modules/.package-lock.json -nt wasm/worker/package-lock.json ]; then
		(cd wasm/worker && npm ci --no-audit --no-fund --loglevel=error)
	fi
	mkdir -p bin/worker
	GOOS=js GOARCH=wasm go build -trimpath -ldflags='-s -w' -o bin/worker/app.wasm ./wasm/worker
	cp "$(go env GOROOT)/lib/wasm/wasm_exec.js" wasm/worker/js/worker.mjs bin/worker/
	echo "bin/worker: $(cat bin/worker/app.wasm bin/worker/wasm_exec.js bin/worker/worker.mjs | gzip -9 | wc -c) bytes gzip -9 (Cloudflare: 3 MiB free, 10 MiB paid)"
}
# runs bin/worker in local workerd with the KYCVS_* environment as bindings
worker_dev() {
	local port=${KYCVS_WORKER_PORT:-8787} cfg
	cfg=$(node wasm/worker/js/workerd-config.mjs --dir bin/worker --port "$port" --name dev)
	log "kycvs worker on http://127.0.0.1:$port (workerd, config $cfg)"
	exec wasm/worker/node_modules/.bin/workerd serve "$cfg" --verbose
}
# go test ./... (test_go) has already run the workerd suite on a worker it
# built itself; this checks that the build.sh artefacts pass it too.
test_worker() {
	build_worker
	log "edge worker through workerd (bin/worker, as ./build.sh worker builds it)"
	KYCVS_WORKER_BUILD=$ROOT/bin/worker go test -count=1 -run 'TestWorkerdPinned$|TestWorkerdPinnedFullPath$|TestWorkerdFastPath$' ./wasm/worker
}
bench_worker() {
	build_worker
	log "edge worker: Go vs panva/jose in local workerd"
	KYCVS_WORKER_BUILD=$ROOT/bin/worker go test -count=1 -v -run '^$' -bench '^BenchmarkWorkerd$' -benchtime 1x ./wasm/worker |
		grep -v -e '^=== RUN' -e '^--- PASS' -e '^PASS$' -e '^ok ' | tee "$ROOT/bin/bench-worker.txt"
}

# The goals of the edge and verifierjs benches (issue 15), each a ratio
# measured side by side within its own run, gathered in one place.
bench_goals() {
	log "goals (issue 15): ratios measured side by side in this run"
	grep -h -i -e 'goal' "$ROOT/bin/bench-worker.txt" "$ROOT/bin/bench-js.txt" | grep -v '^goals'
}

# ---- postgres (issue 8) ----
# KYCVS_BENCH_PEOPLE: registry sizes, comma-separated (default 1000000;
# 1000000,10000000 for the CoWIN-scale run, ~10 more minutes).
bench_postgres() {
	local n
	: >"$ROOT/bin/bench-postgres.txt"
	for n in $(echo "${KYCVS_BENCH_PG_PEOPLE:-1000000,10000000}" | tr ',' ' '); do
		log "PostgreSQL store at $n people: COPY import, lookups, store-level flows (1 and 2 replicas, boltstore beside)"
		KYCVS_BENCH_PEOPLE=$n go run ./issuer/store/pgstore/pgbench | tee -a "$ROOT/bin/bench-postgres.txt"
	done
}

cmd=${1:-build}
case "$cmd" in
build)
	build_go
	build_wasm
	build_demo
	;;
run)
	build_go
	build_wasm
	build_demo
	# KYCVS_ADDR alone moves the demo: the issuer URL (unless KYCVS_ISSUER
	# says otherwise) follows it, and serve --demo sets the demo client's
	# origins from the issuer URL at every start.
	addr=${KYCVS_ADDR:-127.0.0.1:8080}
	host=${addr%:*} port=${addr##*:}
	case "$host" in "" | 0.0.0.0 | "[::]") host=127.0.0.1 ;; esac
	issuer=${KYCVS_ISSUER:-http://$host:$port}
	log "demo: open $issuer/demo/ (the SMS inbox: $issuer/demo/inbox.html)"
	exec bin/kycvs serve --demo --addr "$addr" --data "${KYCVS_DATA:-$ROOT/.data}" --issuer "$issuer"
	;;
test)
	# ./build.sh test [STAGE...]: every stage, or the ones named.
	shift
	# shellcheck disable=SC2086
	check_stages ${@:-$TEST_STAGES}
	build_go
	build_wasm
	# shellcheck disable=SC2086
	run_stages ${@:-$TEST_STAGES}
	log "all tests passed (stages: ${*:-$TEST_STAGES})"
	;;
bench)
	build_go
	build_wasm
	bench_go
	bench_js
	bench_issuer
	bench_worker
	bench_postgres
	bench_goals
	;;
static)
	shift
	build_static "$@"
	;;
worker)
	build_worker
	;;
worker-dev)
	build_worker
	worker_dev
	;;
*)
	echo "usage: ./build.sh [build|run|test [STAGE...]|static DIR|bench|worker|worker-dev]" >&2
	exit 2
	;;
esac

#!/usr/bin/env bash
# build.sh builds and runs everything. See README.md.
#   ./build.sh          build bin/kycvs (and the wasm artefacts)
#   ./build.sh run      start the demo issuer (kycvs serve --demo)
#   ./build.sh test     run every test (Go, generated-code check, fuzz smoke, JS, browser, worker)
#   ./build.sh bench    run the benchmarks and print side-by-side tables
set -euo pipefail
cd "$(dirname "$0")"
ROOT=$PWD
export GOFLAGS=${GOFLAGS:-}

log() { printf '\n==> %s\n' "$*" >&2; }

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
	log "go test"
	go test -count=1 ./...
	log "fuzz smoke"
	fuzz_smoke
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

fuzz_smoke() {
	local t=${FUZZTIME:-10s}
	for f in FuzzVerify FuzzParseKeySet FuzzDecodeClaims; do
		go test -run='^$' -fuzz="^$f\$" -fuzztime="$t" . >/dev/null
		echo "fuzz $f: ok ($t)"
	done
}

bench_go() {
	log "native verify, side by side"
	go test -run='^$' -bench='^BenchmarkVerify' -benchmem -count=1 . | tee "$ROOT/bin/bench-go.txt"
}

# ---- wasm + verifierjs (issue 3) ----
build_wasm() { :; }
test_js() { :; }
bench_js() { :; }

# ---- issuer (issue 4) ----
test_issuer_extra() { :; }
bench_issuer() { :; }

# ---- embed + demo (issue 5) ----
test_browser_demo() { :; }

# ---- edge worker (issue 6) ----
build_worker() { :; }
worker_dev() { echo "worker-dev: not built yet" >&2; return 2; }
test_worker() { :; }
bench_worker() { :; }

# ---- postgres (issue 8) ----
bench_postgres() { :; }

cmd=${1:-build}
case "$cmd" in
build)
	build_go
	build_wasm
	;;
run)
	build_go
	build_wasm
	exec bin/kycvs serve --demo --addr "${KYCVS_ADDR:-127.0.0.1:8080}" --data "${KYCVS_DATA:-$ROOT/.data}" --issuer "${KYCVS_ISSUER:-http://127.0.0.1:8080}"
	;;
test)
	build_go
	build_wasm
	test_go
	test_issuer_extra
	test_js
	test_browser_demo
	test_worker
	log "all tests passed"
	;;
bench)
	build_go
	build_wasm
	bench_go
	bench_js
	bench_issuer
	bench_worker
	bench_postgres
	;;
worker)
	build_worker
	;;
worker-dev)
	build_worker
	worker_dev
	;;
*)
	echo "usage: ./build.sh [build|run|test|bench|worker|worker-dev]" >&2
	exit 2
	;;
esac

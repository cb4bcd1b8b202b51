# GigStream hub. `make run` starts everything; `make test` runs every test.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

DEVSTACK := scripts/devstack
# Loads the devstack's connection settings into a recipe's shell.
DEVENV = eval "$$($(DEVSTACK) env)";
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
BIN := bin/gigstream
PORT ?= 8080

.PHONY: help devstack devstack-down webdeps build run test drills soak bench lint fmt clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

devstack: ## start Postgres, Redis, clamd, S3, stripe-mock and Mailpit on loopback
	@$(DEVSTACK) up

webdeps: ## install the web client's pinned TypeScript (npm ci in web/typecheck)
	@scripts/webdeps

devstack-down: ## stop the local services
	@$(DEVSTACK) down

build: ## build the static binary into bin/
	CGO_ENABLED=0 go build -trimpath -o $(BIN) ./cmd/gigstream

run: devstack build ## devstack up, migrate, seed, serve on :8080
	@$(DEVENV) $(BIN) migrate up && $(BIN) seed && \
	  echo "GigStream hub: http://localhost:$(PORT)  (readiness: http://localhost:$(PORT)/readyz, Ctrl-C stops)" && \
	  HTTP_ADDR=":$(PORT)" exec $(BIN) serve

test: devstack webdeps ## go vet, then every test (unit, integration, e2e) with the race detector
	@$(DEVSTACK) cluster up # the Redis Cluster tests' 3 masters and 3 replicas
	@$(DEVENV) go vet ./... && go test -race -count=1 -timeout 70m ./...

drills: devstack ## operations drills: point-in-time restore (pgBackRest over S3), rolling deploy behind HAProxy
	@scripts/drills

SOAK_DURATION ?= 30m
soak: devstack ## mixed load on 3 nodes behind HAProxy for SOAK_DURATION (30m): memory, goroutines, churn, 5xx
	@SOAK_DURATION=$(SOAK_DURATION) E2E_RACE=0 DRILL_TIMEOUT=4h scripts/drills '^TestSoak$$'

bench: devstack ## Go benchmarks, the money property run (MONEYPROP_OPS, 20000), catalogue search over HTTP at 100k gigs, 300 trickling uploads' memory, honest p99 beside 64 slow uploads, the 1 GiB upload pipeline, durable chat vs ephemeral
	@$(DEVENV) go test -run '^$$' -bench . -skip '^Benchmark(MoneyProperty|SettleOrders|Withdrawals)$$' -benchmem -timeout 30m $$(go list ./... | grep -v -e /media -e /e2e)
	@$(DEVENV) go test -run '^$$' -bench '^Benchmark(SettleOrders|Withdrawals)$$' -benchtime 2000x -timeout 30m ./cmd/gigstream
	@$(DEVENV) MONEYPROP_OPS=$${MONEYPROP_OPS:-20000} go test -run '^$$' -bench '^BenchmarkMoneyProperty$$' -benchtime 1x -timeout 60m ./cmd/gigstream
	@$(DEVENV) E2E_RACE=0 go test -run '^$$' -bench BenchmarkSearchHTTP -benchtime 1x -timeout 60m ./e2e
	@$(DEVENV) E2E_RACE=0 go test -run '^$$' -bench BenchmarkTricklingUploadsRSS -benchtime 1x -timeout 30m ./e2e
	@$(DEVENV) E2E_RACE=0 FREEZE_ROUNDS=200 go test -count=1 -v -run '^TestAbuseUploadsSlowClientsCannotFreezeANode$$' -timeout 30m ./e2e | grep -E 'honest requests|after the slow|^(ok|FAIL|---)'
	@$(DEVENV) go test -run '^$$' -bench . -benchtime 1x -benchmem -timeout 30m ./media/...
	@BENCH_ONLY="c5-eph c5-chat" BENCH_DURABLE=0 BENCH_CHAT_RATES="$${BENCH_CHAT_RATES:-500 1000 2000 3000}" scripts/bench-hub

lint: ## gofmt check, go vet and staticcheck
	@out="$$(gofmt -l .)"; if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	go vet ./...
	go run $(STATICCHECK) ./...

fmt: ## format the code
	gofmt -w .

clean: ## remove build output
	rm -rf bin

.PHONY: bench-hub
bench-hub: ## load-test the real-time hub (gigload on local nodes) next to Centrifugo's figures
	@scripts/bench-hub

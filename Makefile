# pbftlab: grade a PBFT replica against the lab's cases.
#
#   make grade                 grade the reference solution
#   make grade TREE=skeleton   grade the student tree
#   make grade CASE=case2_withdraw SEED=7 RUNS=1   rerun one case with one seed
#   make grade PHASE=prepare   only the specs of one phase
#   make grade CASES=dir       grade another folder of case files
#   make test                  check the kit itself
#   make bench                 benchmarks
#
# Everything comes from the Go module proxy through go.mod; nothing else
# needs installing.

GO      ?= go
TREE    ?= solution
REPORTS ?= reports

GRADE_FLAGS = -tree $(TREE) -reports $(REPORTS) \
	$(if $(CASES),-cases $(CASES)) \
	$(if $(CASE),-case $(CASE)) \
	$(if $(PHASE),-phase $(PHASE)) \
	$(if $(SEED),-seed $(SEED)) \
	$(if $(RUNS),-runs $(RUNS)) \
	$(if $(V),-v)

.PHONY: all grade test fmt-check vet lint unit grade-solution bench help

all: test

help:
	@sed -n '2,12p' Makefile | sed 's/^# \{0,1\}//'

grade:
	$(GO) run ./cmd/pbftlab grade $(GRADE_FLAGS)

test: fmt-check vet lint unit grade-solution

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

lint:
	$(GO) tool staticcheck ./...

unit:
	$(GO) test -count=1 ./...

# The reference must earn every point.
grade-solution:
	$(GO) run ./cmd/pbftlab grade -tree solution -reports $(REPORTS)

bench:
	$(GO) test -run '^$$' -bench . -benchtime 2s ./lab/...

# pbftlab: grade a PBFT replica against the lab's cases.
#
#   make grade                 grade the reference solution
#   make grade TREE=skeleton   grade the student tree
#   make grade CASE=case2_withdraw SEED=7 RUNS=1   rerun one case with one seed
#   make grade PHASE=prepare   only the specs of one phase
#   make grade CASES=dir       grade another folder of case files
#   make grade SUBMISSION=dir  grade a student's files (dir or dir/skeleton)
#                              in a clean copy of the kit
#   make grade SUBMISSIONS=dir grade every submission folder inside dir, as
#                              many at once as there are cores; writes
#                              reports/gradebook.csv and reports/NAME/
#   make grade HIDDEN=a,b*     mark TA-only cases: Gradescope shows them to
#                              students once the grades are published
#   make gradescope [HIDDEN=..] build the Gradescope autograder zip
#                              (default dist/gradescope/autograder.zip)
#   make phase PHASE=prepare   grade the student tree on the specs that need
#                              no phase after PHASE (in the handout's order)
#   make skeleton              regenerate skeleton/ from solution/'s markers
#   make handout [DEST=dir]    write the student release (default dist/handout)
#   make test                  check the kit itself
#   make stress N=1000         play every case and robustness spec under N
#                              seeds of message order on every core (TREE,
#                              CASE=a,b and SEED=first apply); failing seeds'
#                              transcripts go to reports/stress/
#   make mutants               grade each planted bug of mutants/ and show
#                              which spec catches it (ONLY=a,b for some)
#   make mutants AUTO=1        grade the mutants generated from every TODO
#                              region of solution/ and the helpers it calls:
#                              a table per phase, survivors with their diffs
#                              in reports/mutants/survivors.txt (ONLY=ID or
#                              pattern, LIST=1 to list them, MINKILL=95 to
#                              fail below that kill rate)
#   make bench [COUNT=3]       grading time, simulator and TCP cluster
#                              figures, medians of COUNT runs (PERFORMANCE.md)
#
# Everything comes from the Go module proxy through go.mod; nothing else
# needs installing.

GO      ?= go
# A student's copy of the kit has no solution/: there the skeleton is graded.
HAVE_SOLUTION := $(wildcard solution/grade_test.go)
TREE    ?= $(if $(HAVE_SOLUTION),solution,skeleton)
REPORTS ?= reports

GRADE_FLAGS = $(if $(SUBMISSION),-submission $(SUBMISSION),-tree $(TREE)) -reports $(REPORTS) \
	$(if $(CASES),-cases $(CASES)) \
	$(if $(CASE),-case $(CASE)) \
	$(if $(PHASE),-phase $(PHASE)) \
	$(if $(SEED),-seed $(SEED)) \
	$(if $(RUNS),-runs $(RUNS)) \
	$(if $(HIDDEN),-hidden $(HIDDEN)) \
	$(if $(V),-v)

# Batch grading passes on what applies to every submission.
BATCH_FLAGS = -submissions $(SUBMISSIONS) -reports $(REPORTS) \
	$(if $(CASES),-cases $(CASES)) \
	$(if $(SEED),-seed $(SEED)) \
	$(if $(RUNS),-runs $(RUNS)) \
	$(if $(HIDDEN),-hidden $(HIDDEN))

.PHONY: all grade test fmt-check vet lint unit grade-solution bench help phase skeleton skeleton-check handout gradescope stress mutants

all: test

help:
	@sed -n '2,/^$$/p' Makefile | sed 's/^# \{0,1\}//'

grade:
	$(GO) run ./cmd/pbftlab $(if $(SUBMISSIONS),batch $(BATCH_FLAGS),grade $(GRADE_FLAGS))

gradescope:
	$(GO) run ./cmd/pbftlab gradescope $(if $(DEST),-out $(DEST)) $(if $(HIDDEN),-hidden $(HIDDEN))

test: fmt-check vet lint unit $(if $(HAVE_SOLUTION),skeleton-check grade-solution)

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

lint:
	$(GO) tool staticcheck ./...

unit:
	$(GO) test -count=1 -timeout 25m $$($(GO) list ./... | grep -v -e '/skeleton$$' -e '/skeleton/')

# The reference must earn every point.
grade-solution:
	$(GO) run ./cmd/pbftlab grade -tree solution -reports $(REPORTS)

# One phase at a time: the student tree (or SUBMISSION) on the specs that
# need no phase after PHASE, which can all pass once the phases up to PHASE
# are done.
phase:
	@test -n "$(PHASE)" || { echo "usage: make phase PHASE=pre-prepare|prepare|commit|checkpoint|view-change|recovery"; exit 2; }
	$(GO) run ./cmd/pbftlab grade $(if $(SUBMISSION),-submission $(SUBMISSION),-tree skeleton) -upto $(PHASE) -reports $(REPORTS) \
		$(if $(CASES),-cases $(CASES)) $(if $(SEED),-seed $(SEED)) $(if $(RUNS),-runs $(RUNS)) $(if $(V),-v)

skeleton:
	@test -n "$(HAVE_SOLUTION)" || { echo "make skeleton needs solution/, which a student copy of the kit does not have"; exit 2; }
	$(GO) run ./cmd/pbftlab skeleton

# skeleton/ must be exactly what make skeleton writes.
skeleton-check:
	$(GO) run ./cmd/pbftlab skeleton -check

handout:
	@test -n "$(HAVE_SOLUTION)" || { echo "make handout needs solution/, which a student copy of the kit does not have"; exit 2; }
	$(GO) run ./cmd/pbftlab handout $(if $(DEST),-dest $(DEST))

stress:
	$(GO) run ./cmd/pbftlab stress -tree $(TREE) -n $(or $(N),100) -reports $(REPORTS)/stress \
		$(if $(CASE),-case $(CASE)) $(if $(SEED),-seed $(SEED)) $(if $(CASES),-cases $(CASES)) $(if $(V),-v)

mutants:
	@test -n "$(HAVE_SOLUTION)" || { echo "make mutants needs solution/, which a student copy of the kit does not have"; exit 2; }
	$(GO) run ./cmd/pbftlab mutants $(if $(AUTO),-auto -report $(REPORTS)/mutants $(if $(LIST),-list) $(if $(MINKILL),-min-kill $(MINKILL))) \
		$(if $(ONLY),-only '$(ONLY)') $(if $(RUNS),-runs $(RUNS))

bench:
	$(GO) run ./cmd/pbftlab bench $(if $(COUNT),-count $(COUNT))

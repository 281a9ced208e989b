# pbftlab: grade a PBFT replica against the lab's cases.
#
#   make grade                 grade your replica: the files of skeleton/
#   make phase PHASE=prepare   grade your replica on the specs that need no
#                              phase after PHASE (in the handout's order)
#   make grade PHASE=prepare   only the specs that exercise a phase (most
#                              exercise pre-prepare too)
#   make grade CASE=case2_withdraw SEED=7 RUNS=1   rerun one case with one seed
#   make grade CASE=case2_withdraw SEED=7 SCHEDULE=12:1 RUNS=1
#                              replay a failure on the order it was shrunk to
#   make grade V=1             and show the suite's output as it runs, with each failing run's whole transcript
#   make grade CASES=dir       grade against another folder of case files
#   make stress N=200          play every case and robustness spec under N
#                              seeds of message order on every core
#                              (CASE=a,b and SEED=first apply); failing
#                              seeds' transcripts go to reports/stress/
#   make grade SUBMISSION=dir  grade a hand-in folder (dir or dir/skeleton)
#                              as it will be graded: its files checked, then
#                              placed in a clean copy of the kit
#   make test                  check the kit and your code: formatting, vet,
#                              staticcheck, unit tests
#
#   The grade exits 0 when every spec passed, 1 when one failed and 2 when
#   grading could not run; make's last lines name that code and what it
#   means (make itself exits 2 for either failure), as does
#   reports/score.json's exit_code.
#ta{
#   A batch (SUBMISSIONS=dir) exits with the worst of its submissions'
#   codes: 0 when each was graded and passed every spec, 1 when each was
#   graded and one did not pass a spec, 2 when one could not be graded
#   (or the batch could not run or was stopped).
#ta}
#   reports/report.html tells the whole story of each spec.
#ta{
#
# For TAs (in the kit, make grade grades solution/; TREE=skeleton the
# student tree):
#   make grade SUBMISSIONS=dir grade every submission folder inside dir, as
#                              many at once as there are cores; writes
#                              reports/gradebook.csv and reports/NAME/, a
#                              row for every entry (a zip's says to unpack it)
#   make grade HIDDEN=a,b*     mark TA-only cases: Gradescope shows them to
#                              students once the grades are published; each
#                              name or pattern must match a case
#   make gradescope [HIDDEN=..] build the Gradescope autograder zip
#                              (default dist/gradescope/autograder.zip)
#   make gradescope CASES=dir  the zip carries dir's case files and grades
#                              them in place of cases/ (HIDDEN= applies to
#                              them), as make grade CASES=dir does: cases/
#                              ships in the student release, so secret
#                              cases go in a folder of your own
#   make skeleton              regenerate skeleton/ from solution/'s markers
#   make handout [DEST=dir]    write the student release (default dist/handout)
#   make stress TREE=skeleton  stress the student tree instead
#   make mutants               grade each planted bug of ta/mutants/ and show
#                              which spec catches it (ONLY=a,b for some)
#   make mutants AUTO=1        grade the mutants generated from every TODO
#                              region of solution/ and the helpers it calls:
#                              a table per phase, survivors with their diffs
#                              in reports/mutants/survivors.txt (ONLY=ID or
#                              pattern, LIST=1 to list them, MINKILL=95 to
#                              fail below that kill rate)
#   make bench [COUNT=3]       grading time, simulator and TCP cluster
#                              figures, medians of COUNT runs (ta/PERFORMANCE.md)
#ta}
#
# Everything comes from the Go module proxy through go.mod; nothing else
# needs installing.

GO      ?= go
#ta{
# A student's copy of the kit has no solution/: there the skeleton is graded.
HAVE_SOLUTION := $(wildcard solution/grade_test.go)
TREE    ?= $(if $(HAVE_SOLUTION),solution,skeleton)
TEST_MORE = $(if $(HAVE_SOLUTION),skeleton-check grade-solution)
#ta}
TREE    ?= skeleton
REPORTS ?= reports

# SUBMISSION grades a hand-in folder's files in a clean copy of the kit,
# as they will be graded.
GRADED  = $(if $(SUBMISSION),-submission $(SUBMISSION),-tree $(TREE))
GRADE_FLAGS = $(GRADED) -reports $(REPORTS) \
	$(if $(CASES),-cases $(CASES)) \
	$(if $(CASE),-case $(CASE)) \
	$(if $(PHASE),-phase $(PHASE)) \
	$(if $(SEED),-seed $(SEED)) \
	$(if $(RUNS),-runs $(RUNS)) \
	$(if $(SCHEDULE),-schedule $(SCHEDULE)) \
	$(if $(V),-v)
GRADE_CMD = grade $(GRADE_FLAGS)
PHASE_TREE = $(if $(SUBMISSION),-submission $(SUBMISSION),-tree skeleton)
#ta{

# A TA grades a submission's files, or a folder of them; TA-only cases
# apply to both.
GRADED += $(if $(HIDDEN),-hidden '$(HIDDEN)')
# Batch grading passes on what applies to every submission.
BATCH_FLAGS = -submissions $(SUBMISSIONS) -reports $(REPORTS) \
	$(if $(CASES),-cases $(CASES)) \
	$(if $(SEED),-seed $(SEED)) \
	$(if $(RUNS),-runs $(RUNS)) \
	$(if $(HIDDEN),-hidden '$(HIDDEN)')
GRADE_CMD = $(if $(SUBMISSIONS),batch $(BATCH_FLAGS),grade $(GRADE_FLAGS))
#ta}

.PHONY: all grade test fmt-check vet lint unit help phase stress
#ta{
.PHONY: grade-solution bench skeleton skeleton-check handout gradescope mutants
#ta}

all: test

help:
	@sed -n '3,/^$$/p' Makefile | grep -v '^#ta[{}]' | sed 's/^# \{0,1\}//'

# run_grade runs pbftlab with its arguments and prints the grade's own code
# (0 passed, 1 a spec failed, 2 could not grade) when it is not 0: make
# turns every failure into its own 2. The tool is built into dist/ and run
# from there, as go run would turn every failing code into 1; go build
# links again only when the tool has changed.
PBFTLAB = dist/pbftlab
run_grade = $(GO) build -o $(PBFTLAB) ./cmd/pbftlab || exit 2; ./$(PBFTLAB) $(1); code=$$?; \
	if [ $$code -ne 0 ]; then echo "make $@: $(RAN) exited $$code ($$( [ $$code -eq 1 ] && echo '$(EXIT1)' || echo '$(EXIT2)' ))" >&2; fi; \
	exit $$code
# What ran, and what its codes 1 and 2 mean, for run_grade's last line.
RAN   = the grade
EXIT1 = a spec did not pass
EXIT2 = grading could not run or was stopped
#ta{
# A batch's code is the worst of its submissions' (see make help).
grade: RAN   = $(if $(SUBMISSIONS),the batch,the grade)
grade: EXIT1 = $(if $(SUBMISSIONS),every submission was graded and one did not pass a spec,a spec did not pass)
grade: EXIT2 = $(if $(SUBMISSIONS),a submission could not be graded or the batch could not run or was stopped: see the state column of the gradebook,grading could not run or was stopped)
#ta}

grade:
	@$(call run_grade,$(GRADE_CMD))
#ta{

gradescope:
	$(GO) run ./cmd/pbftlab gradescope $(if $(DEST),-out $(DEST)) $(if $(CASES),-cases $(CASES)) $(if $(HIDDEN),-hidden '$(HIDDEN)')
#ta}

test: fmt-check vet lint unit $(TEST_MORE)

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

# Env.Logf takes a format, as fmt.Printf does: vet checks its arguments too.
vet:
	$(GO) vet -printf.funcs=Logf ./...

lint:
	$(GO) tool staticcheck ./...

unit:
	$(GO) test -count=1 -timeout 25m $$($(GO) list ./... | grep -v -e '/skeleton$$' -e '/skeleton/')

#ta{
# The reference must earn every point.
grade-solution:
	$(GO) run ./cmd/pbftlab grade -tree solution -reports $(REPORTS)
#ta}

# Every case and robustness spec under N seeds of message order, with
# messages duplicated, reordered and, where votes are automatic, lost.
stress:
	@test -z "$(SUBMISSION)" || { echo "make stress plays the kit's own tree, not a hand-in; a hand-in is graded with make grade SUBMISSION=$(SUBMISSION)"; exit 2; }
	@$(call run_grade,stress -tree $(TREE) -n $(or $(N),100) -reports $(REPORTS)/stress \
		$(if $(CASE),-case $(CASE)) $(if $(SEED),-seed $(SEED)) $(if $(CASES),-cases $(CASES)) $(if $(V),-v))

# One phase at a time: the student tree (or SUBMISSION) on the specs that
# need no phase after PHASE, which can all pass once the phases up to PHASE
# are done.
phase:
	@test -n "$(PHASE)" || { echo "usage: make phase PHASE=pre-prepare|prepare|commit|checkpoint|view-change|recovery"; exit 2; }
	@$(call run_grade,grade $(PHASE_TREE) -upto $(PHASE) -reports $(REPORTS) \
		$(if $(CASES),-cases $(CASES)) $(if $(SEED),-seed $(SEED)) $(if $(RUNS),-runs $(RUNS)) $(if $(V),-v))
#ta{

skeleton:
	@test -n "$(HAVE_SOLUTION)" || { echo "make skeleton needs solution/, which a student copy of the kit does not have"; exit 2; }
	$(GO) run ./cmd/pbftlab skeleton

# skeleton/ must be exactly what make skeleton writes.
skeleton-check:
	$(GO) run ./cmd/pbftlab skeleton -check

handout:
	@test -n "$(HAVE_SOLUTION)" || { echo "make handout needs solution/, which a student copy of the kit does not have"; exit 2; }
	$(GO) run ./cmd/pbftlab handout $(if $(DEST),-dest $(DEST))

mutants:
	@test -n "$(HAVE_SOLUTION)" || { echo "make mutants needs solution/, which a student copy of the kit does not have"; exit 2; }
	$(GO) run ./cmd/pbftlab mutants $(if $(AUTO),-auto -report $(REPORTS)/mutants $(if $(LIST),-list) $(if $(MINKILL),-min-kill $(MINKILL))) \
		$(if $(ONLY),-only '$(ONLY)') $(if $(RUNS),-runs $(RUNS))

bench:
	$(GO) run ./cmd/pbftlab bench $(if $(COUNT),-count $(COUNT))
#ta}

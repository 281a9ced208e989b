package main

import (
	"slices"

	"pbftlab/lab/script"
)

type caseT = script.Case

func phaseNames() []string { return script.Phases }

func validPhase(p string) bool { return slices.Contains(script.Phases, p) }

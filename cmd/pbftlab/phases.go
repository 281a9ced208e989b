package main

import (
	"slices"

	"pbftlab/script"
)

type caseT = script.Case

func phaseNames() []string { return script.Phases() }

func validPhase(p string) bool { return slices.Contains(script.Phases(), p) }

// phasesAfter lists the phases the handout takes after p; none for "".
func phasesAfter(p string) []string {
	if i := slices.Index(script.Phases(), p); i >= 0 {
		return script.Phases()[i+1:]
	}
	return nil
}

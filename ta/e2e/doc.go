// Package e2e tests the lab at the keyboard from the outside: it builds a
// tree's pbft command, starts the four replicas and the client as separate
// processes on free loopback ports, and plays cases by typing their lines
// into the processes' consoles. Outcomes are read back from what the
// consoles print for status. The package holds tests and benchmarks only;
// it belongs with the reference tree and is left out of the student release.
package e2e

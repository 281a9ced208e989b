//go:build !unix

package driver

import (
	"os"
	"os/exec"
)

// ownGroup leaves cmd where it is: process groups are a unix notion.
func ownGroup(*exec.Cmd) {}

// signalGroup signals cmd itself.
func signalGroup(cmd *exec.Cmd, sig os.Signal) {
	if cmd.Process != nil {
		_ = cmd.Process.Signal(sig)
	}
}

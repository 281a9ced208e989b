//go:build !unix

package tcp

import (
	"errors"
	"net"
	"syscall"
)

// rawConn returns nil: links read and write through the net package alone
// (see rawio_unix.go).
func rawConn(net.Conn) syscall.RawConn { return nil }

func sysRead(uintptr, []byte) (int, bool, error)  { return 0, false, errors.ErrUnsupported }
func sysWrite(uintptr, []byte) (int, bool, error) { return 0, false, errors.ErrUnsupported }

const shortReadDrains = false

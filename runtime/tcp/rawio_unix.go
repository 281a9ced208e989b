//go:build unix

package tcp

import (
	"net"
	"runtime"
	"syscall"
)

// rawConn gives access to the connection's file descriptor, for the reads
// and writes a link makes itself (see link.tryWrite and link.readRaw), or
// returns nil when there is none (an in-memory connection in a test).
func rawConn(conn net.Conn) syscall.RawConn {
	sc, ok := conn.(syscall.Conn)
	if !ok {
		return nil
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	return raw
}

// sysRead and sysWrite make one read(2) or write(2) on a non-blocking
// descriptor. again says the call would have had to wait, or was
// interrupted: nothing was read or written, and nothing is wrong.
func sysRead(fd uintptr, b []byte) (n int, again bool, err error) {
	return sysResult(syscall.Read(int(fd), b))
}

func sysWrite(fd uintptr, b []byte) (n int, again bool, err error) {
	return sysResult(syscall.Write(int(fd), b))
}

func sysResult(n int, err error) (int, bool, error) {
	switch err {
	case nil:
		return n, false, nil
	case syscall.EAGAIN, syscall.EINTR:
		return 0, true, nil
	}
	return 0, false, err
}

// shortReadDrains says that a read returning less than it asked for left
// the socket empty, and that whatever arrives after it will be reported by
// the poller even to a reader that did not see the socket empty with its
// own eyes (see link.readRaw). Linux's TCP read returns all it has, up to
// the size asked, and the Go runtime polls with edge-triggered epoll, which
// reports every arrival. Elsewhere the reader makes sure, at the cost of
// one more read.
const shortReadDrains = runtime.GOOS == "linux"

//go:build linux && (amd64 || arm64)

package tcp

import (
	"net"
	"syscall"
	"unsafe"

	"golang.org/x/net/ipv4"
)

// mmsghdr is struct mmsghdr of recvmmsg(2) on a 64-bit system.
type mmsghdr struct {
	hdr syscall.Msghdr
	n   uint32
	_   [4]byte
}

// mmsgReader reads a UDP socket with recvmmsg(2) as link.readRaw reads a
// connection: a batch that comes back short of what it asked for left the
// socket empty, so the reader waits for the poller at once instead of
// first making a call that fails for want of data. The poller reports
// every datagram that arrives after that (Linux, edge-triggered epoll), as
// long as the reader stays inside one RawConn.Read: each new call forgets
// what the poller reported before it. So the whole loop runs in one, and
// hands each batch over from inside it. The datagrams' senders are not
// read: a datagram says who sent it, under its tag.
type mmsgReader struct {
	hdrs   []mmsghdr
	iovs   []syscall.Iovec
	ms     []ipv4.Message
	handle func(n int) bool
	err    error
	wait   bool // the last batch left the socket empty
}

func newBatchReader(conn *net.UDPConn, _ batchConn, ms []ipv4.Message) func(handle func(n int) bool) error {
	raw, err := conn.SyscallConn()
	if err != nil {
		return nil
	}
	r := &mmsgReader{hdrs: make([]mmsghdr, len(ms)), iovs: make([]syscall.Iovec, len(ms)), ms: ms}
	for i := range ms {
		b := ms[i].Buffers[0]
		r.iovs[i].Base = &b[0]
		r.iovs[i].SetLen(len(b))
		r.hdrs[i].hdr.Iov = &r.iovs[i]
		r.hdrs[i].hdr.Iovlen = 1
	}
	return func(handle func(n int) bool) error {
		r.handle = handle
		if err := raw.Read(r.loop); err != nil {
			return err
		}
		return r.err
	}
}

// loop reads and hands over batches until the socket is empty, then has
// the poller wait; it returns true only on an error, or when handle says
// to stop.
func (r *mmsgReader) loop(fd uintptr) bool {
	for {
		if r.wait {
			r.wait = false
			return false
		}
		for i := range r.hdrs {
			r.hdrs[i].hdr.Flags, r.hdrs[i].n = 0, 0
		}
		n, _, e := syscall.RawSyscall6(syscall.SYS_RECVMMSG, fd, uintptr(unsafe.Pointer(&r.hdrs[0])), uintptr(len(r.hdrs)), syscall.MSG_DONTWAIT, 0, 0)
		switch e {
		case 0:
		case syscall.EAGAIN, syscall.EINTR:
			return false
		default:
			r.err = e
			return true
		}
		for i := range int(n) {
			r.ms[i].N = int(r.hdrs[i].n)
		}
		r.wait = int(n) < len(r.hdrs)
		if !r.handle(int(n)) {
			r.err = net.ErrClosed
			return true
		}
	}
}

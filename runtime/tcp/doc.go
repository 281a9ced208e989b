// Package tcp runs replicas and a client over real TCP connections: the lab
// at the keyboard, as opposed to the simulator the grader uses.
//
// # Links
//
// Every replica listens on its own port and keeps one connection open to
// every other replica, which it dials itself and uses for what it sends; the
// connections it accepts carry what the others send it. A client dials every
// replica and gets its replies back on the same connections, so a client needs
// no port of its own. A connection that cannot be made, or that breaks, is
// dialled again with a growing pause (backoff) between attempts.
//
// # Delivery
//
// What an endpoint sends to a peer waits in a bounded queue, numbered, until
// the peer acknowledges it; acknowledgements ride on the messages going the
// other way, or go alone after a few milliseconds. A connection that breaks
// leaves the unacknowledged messages queued, and the next connection writes
// them again. The receiver remembers the last number it delivered from each
// run of each sender (its incarnation, a random value a process draws when
// it starts), and each message says the oldest number its sender still
// has; a message delivered is the next one, or the oldest its sender has
// (those before were delivered, or dropped by the sender for good), and
// one that arrives early waits for those before it (see inbox). So while
// both processes live a message is delivered exactly once, in order,
// whatever happens to the connections between them, and whichever way it
// came (see Datagrams). A peer
// that is down when a message is sent gets it when it comes back. What was
// written to a run that then died is not written again to the next run:
// the old process may have handled it, and the new one, which starts
// afresh and catches up by state transfer, could only mistake it for its
// own (a STATE-REPLY answering its predecessor's request, under the same
// nonce). Such a message is lost with the run, as PBFT allows.
//
// # Frames and authentication
//
// A frame is a 4-byte big-endian length followed by that many bytes. When a
// connection opens, the side that accepted it sends its replica ID, a fresh
// random nonce and its incarnation. The dialling side answers with its own
// ID (and, for a client, its name), its own nonce and incarnation, the
// acceptor's incarnation as it read it, a flag (see Restarts), a client's
// datagram port (see Datagrams), its settings (see Settings), and an
// HMAC-SHA256 tag over all that and the acceptor's nonce. The acceptor's
// first frame says whether it took the greeting: an acceptance, saying
// whether it reads datagrams, or, refusing a replica started with other
// settings, its own settings, after which it hangs up. Every later frame
// carries a counter, then a message in the wire.Encode form with its
// number, an acknowledgement and the oldest number queued, or an
// acknowledgement alone (with the count of the link's datagrams that
// arrived, see Datagrams), then a tag over the sender, the receiver, the
// receiver's nonce and everything before it. The
// tag's key belongs to the pair of endpoints: it is derived from the cluster
// key, so a replica cannot speak in another's name, and a frame cannot be
// replayed on another connection (other nonce) or twice on the same one
// (counter not above the last). A frame whose tag does not verify is
// dropped and logged; it never reaches the replica. Clients share one key
// per replica: a replica knows that a request came from a client, not
// which.
//
// The cluster key comes from a key file given to every process, or, when
// none is given, from DefaultKey: a published value that is only good enough
// for a lab on the loopback interface.
//
// # Datagrams
//
// A replica also reads UDP datagrams at its listening address, and a
// client at a port it gives in its greeting. The acceptor's first frame
// says whether it reads them; a link whose both ends do sends most of its
// messages that way (see datagram.go for why, and for how a lost one is
// sent again), from the moment a frame has come from the other end. A
// datagram carries what a frame carries, under a tag of its own label and
// counter, bound to the connection's nonce: it proves what a frame proves,
// and is checked against the connection it was sent under. The connection
// carries the rest: greetings, acknowledgements, messages too large for
// a datagram, what was held under load, and whatever went unacknowledged.
//
// # Restarts
//
// A replica that dials another says, with the flag, whether it has
// delivered messages from a run of that replica other than the one whose
// incarnation it just read. A process killed and started again learns so
// from the first of the others that reconnects to it (Transport.EarlierRun):
// the cluster heard from an earlier run of it, even when, nothing having
// executed yet, the others' state cannot tell it from a cluster starting
// for the first time. A replica sends on the links it dials, each after its
// greeting, so what a replica said of earlier runs is known before
// anything it sends is delivered. A node restarted as the primary of the
// cluster's view uses it to leave that view, whose sequence numbers its
// previous run may have given out (see Node.Rejoin).
//
// # Settings
//
// Replicas that run together must agree on their number, the checkpoint
// interval, the window, the batch size, the starting balances and whether
// votes are typed (see Settings). A replica's greeting carries a short, canonical description
// of them, and the acceptor refuses a replica whose settings differ,
// telling it its own: each side then notes which setting differs, with
// both values and the flag that sets it, once, however often the two try
// again to connect. Clients carry no settings.
//
// # One call at a time
//
// A Node guards its replica with a lock: the goroutine that reads a
// connection hands each message it reads to the replica itself, and the
// ticker, console commands and status requests take the same lock, so the
// replica is called one call at a time, which is what the lab.Replica
// contract requires, and a message reaches it without passing from one
// goroutine to another. The replica's Env enqueues outgoing messages and
// never blocks.
package tcp

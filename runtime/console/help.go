package console

// replicaHelp is what "help" prints at a replica's console.
const replicaHelp = `commands at a replica:
  status                      view, primary, balances, the last 5 decisions and pending requests
  status all                  the same with every decision
  data                        the transactions in progress, with their data and votes
  list                        the members, where they listen, which is primary and which Byzantine
  tx [OPERATION]              primary: order the oldest waiting request, or a new one typed here;
                              a bare tx may be followed by the operation (the original's data> line)
  prepare yes | prepare no    this replica's PREPARE vote on the oldest request awaiting it
  prepare to PX yes|no        Byzantine replica only: a PREPARE vote to replica PX alone
  ack commit | ack abort      this replica's COMMIT ack on the oldest prepared request
  ack to PX commit|abort      Byzantine replica only: a COMMIT ack to replica PX alone
  progress                    decide with the votes that have arrived (2f+1 yes moves on, else abort)
  crash                       stop handling messages (the process keeps running)
  recover                     resume, and catch up on what was missed
  view change                 ask for the next view (unless this replica already moved by itself)
  checkpoint                  write a snapshot now; at the primary, also start a checkpoint
  tick [N]                    advance the replica's clock by N ticks (1 if left out)
  net                         connections and message counts
  help                        this list
  quit                        leave`

// clientHelp is what "help" prints at the client's console.
const clientHelp = `commands at the client:
  send account=A,amount=N,operation=deposit|withdraw [times K]
                              send a request (K of them, summed up in one line); tx is the same;
                              one is outstanding at a time: the next waits in a queue until the
                              one before it has its outcome
  status                      every request sent or queued, the replies to it and its outcome
  list                        how many replies arrived, and the last ones
  net                         connections and message counts
  help                        this list
  quit                        leave`

// clusterHelp is what "help" prints at the cluster console.
const clusterHelp = `one line per step, as in a case file: TARGETS: COMMAND
  client: send account=alice,amount=100,operation=deposit [times K]
  P0: tx
  P1, P2: prepare yes
  P3: prepare to P1 no        a Byzantine replica's vote to P1 alone (P3 is, unless --byzantine)
  P0, P1, P2, P3: progress
  P1: crash | P1: recover | P2: view change | P0: checkpoint
  P0: status | P0: list | P1: net | client: status
  tick: N                     advance every replica's clock by N ticks
  status                      the status of every replica
  help                        this list
  quit                        leave
every replica accepts the commands of a replica console (P0: help lists them)`

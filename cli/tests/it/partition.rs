//! A network partition between `plexus node` processes on loopback, without network
//! namespaces: each node advertises the address of a forwarder in front of its p2p
//! listener, so every connection between two nodes passes through the forwarder of
//! the one that was dialed. To cut node B off, the forwarders refuse and close every
//! connection whose target is B or whose dialing socket belongs to B's process (found
//! through `/proc/net/tcp` and `/proc/PID/fd`, Linux only); B keeps running its
//! timers, as a partitioned node does. Healing lets connections through again.

use std::{
    io::{self, Read as _, Write as _},
    net::{Shutdown, SocketAddr, TcpListener, TcpStream},
    sync::{Arc, Mutex, PoisonError},
    thread,
};

/// One piped connection: what it joins and both sockets, to close it on a cut.
struct Pipe {
    target: usize,
    client_pid: Option<u32>,
    streams: [TcpStream; 2],
}

#[derive(Default)]
struct State {
    /// Each node's process id, when running.
    pids: Vec<Option<u32>>,
    /// The node cut off, if any.
    cut: Option<usize>,
    pipes: Vec<Pipe>,
}

/// Forwarders in front of every node's p2p listener.
#[derive(Clone)]
pub(crate) struct Partition {
    state: Arc<Mutex<State>>,
    ports: Vec<u16>,
}

impl Partition {
    /// A forwarder for each of `targets` (the nodes' real p2p addresses).
    pub(crate) fn new(targets: &[SocketAddr]) -> Self {
        let state = Arc::new(Mutex::new(State {
            pids: vec![None; targets.len()],
            ..State::default()
        }));
        let ports = targets
            .iter()
            .enumerate()
            .map(|(index, target)| {
                let listener = TcpListener::bind("127.0.0.1:0").unwrap();
                let port = listener.local_addr().unwrap().port();
                let (state, target) = (state.clone(), *target);
                thread::spawn(move || {
                    for client in listener.incoming().flatten() {
                        let _ = forward(&state, index, target, client);
                    }
                });
                port
            })
            .collect();
        Self { state, ports }
    }

    /// The address node `index` advertises (and others dial).
    pub(crate) fn address(&self, index: usize) -> String {
        format!("127.0.0.1:{}", self.ports[index])
    }

    /// Record node `index`'s process (after each start).
    pub(crate) fn set_pid(&self, index: usize, pid: u32) {
        self.lock().pids[index] = Some(pid);
    }

    /// Cut node `index` off from every other node, closing its connections now.
    pub(crate) fn cut(&self, index: usize) {
        let mut state = self.lock();
        state.cut = Some(index);
        let pid = state.pids[index];
        state.pipes.retain(|pipe| {
            // A dialer whose owner was not found when its connection was accepted (a
            // busy machine, a process restarted in between) is looked up again now.
            let client_pid = pipe.client_pid.or_else(|| {
                let peer = pipe.streams[0].peer_addr().ok()?;
                owner(peer, &pid.into_iter().collect::<Vec<_>>())
            });
            let involved = pipe.target == index || (pid.is_some() && client_pid == pid);
            if involved {
                for stream in &pipe.streams {
                    let _ = stream.shutdown(Shutdown::Both);
                }
            }
            !involved
        });
    }

    /// Let every connection through again.
    pub(crate) fn heal(&self) {
        self.lock().cut = None;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Pipe `client` to `target` unless the partition separates them.
fn forward(
    state: &Mutex<State>,
    index: usize,
    target: SocketAddr,
    client: TcpStream,
) -> io::Result<()> {
    let peer = client.peer_addr()?;
    let (pids, cut) = {
        let state = state.lock().unwrap_or_else(PoisonError::into_inner);
        (state.pids.clone(), state.cut)
    };
    let client_pid = owner(peer, &pids.iter().flatten().copied().collect::<Vec<_>>());
    let separated = |cut: Option<usize>, pids: &[Option<u32>]| {
        cut.is_some_and(|cut| cut == index || (client_pid.is_some() && pids[cut] == client_pid))
    };
    if separated(cut, &pids) {
        return client.shutdown(Shutdown::Both);
    }
    let upstream = TcpStream::connect(target)?;
    let mut guard = state.lock().unwrap_or_else(PoisonError::into_inner);
    // A cut may have started while connecting.
    if separated(guard.cut, &guard.pids) {
        let _ = upstream.shutdown(Shutdown::Both);
        return client.shutdown(Shutdown::Both);
    }
    guard.pipes.push(Pipe {
        target: index,
        client_pid,
        streams: [client.try_clone()?, upstream.try_clone()?],
    });
    drop(guard);
    let (mut a, mut b) = (client.try_clone()?, upstream.try_clone()?);
    thread::spawn(move || copy(&mut a, &mut b));
    let (mut a, mut b) = (upstream, client);
    thread::spawn(move || copy(&mut a, &mut b));
    Ok(())
}

fn copy(from: &mut TcpStream, to: &mut TcpStream) {
    let mut buf = [0u8; 16 * 1024];
    loop {
        match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                if to.write_all(&buf[..n]).is_err() {
                    break;
                }
            }
        }
    }
    let _ = to.shutdown(Shutdown::Write);
}

/// Which of `pids` owns the local socket `addr` (an IPv4 loopback client socket).
fn owner(addr: SocketAddr, pids: &[u32]) -> Option<u32> {
    let SocketAddr::V4(v4) = addr else {
        return None;
    };
    let wanted = format!(
        "{:08X}:{:04X}",
        u32::from_le_bytes(v4.ip().octets()),
        v4.port()
    );
    let table = std::fs::read_to_string("/proc/net/tcp").ok()?;
    let inode = table.lines().skip(1).find_map(|line| {
        let fields: Vec<&str> = line.split_whitespace().collect();
        (fields.get(1) == Some(&wanted.as_str())).then(|| fields.get(9).map(|s| s.to_string()))?
    })?;
    let link = format!("socket:[{inode}]");
    pids.iter().copied().find(|pid| {
        std::fs::read_dir(format!("/proc/{pid}/fd"))
            .into_iter()
            .flatten()
            .flatten()
            .any(|fd| {
                std::fs::read_link(fd.path()).is_ok_and(|target| target.to_string_lossy() == link)
            })
    })
}

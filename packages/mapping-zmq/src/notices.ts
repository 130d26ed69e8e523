/** What the driver prints for people: the join command, the warning for an open --listen. */

export function joinCommand(endpoint: string, missing: number, local: number, publicKey: string | undefined, bare = false, listed = false): string {
  const command = `d4 worker zmq_multi --connect ${endpoint}${publicKey ? ` --curve-server-key '${publicKey}'` : ''}${listed ? ' --curve-secret-file <a key pair listed in --curve-clients>' : ''}`;
  if (bare) return command;
  return `d4 zmq_multi: listening on ${endpoint}, ${local} local worker process${local === 1 ? '' : 'es'}; waiting for ${missing} more; on each other host run: ${command}\n`;
}

export function listenWarning(endpoint: string): string {
  return `d4 zmq_multi: warning: listening on ${endpoint}, not a loopback address, without CURVE: anyone who can reach it can join the run and read its data; give --curve-secret-file (the workers then need --curve-server-key)\n`;
}

export function refusalNotice(endpoint: string, encrypted: boolean, reason: string): string {
  const why = encrypted ? "it has no CURVE keys or not this driver's public key (--curve-server-key)" : 'it uses CURVE, and this run does not (--curve-secret-file)';
  return `d4 zmq_multi: refused a worker connecting to ${endpoint}: its handshake failed (${reason}): ${why}\n`;
}

export function unlistedNotice(endpoint: string, publicKey: string, address: string, file: string): string {
  return `d4 zmq_multi: refused a worker at ${address} connecting to ${endpoint}: its public key ${publicKey} is not in --curve-clients ${file}\n`;
}

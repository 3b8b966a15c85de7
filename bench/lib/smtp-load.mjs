// A small SMTP client for fault runs: sends uniquely identified messages over a few sessions
// and records which of them got a 250 after the end of data, so that a run can check each one
// arrived. No pipelining; one message at a time per session.
import net from 'node:net';
import { sleep } from './processes.mjs';

/** The trailer line that ends every message body: a dump without it is a cut-off transaction. */
export const trailer = (id) => `end-of-message ${id}`;

/** A message of about `size` bytes whose Message-Id is `<id>`, ending with `trailer(id)`. */
export function loadMessage(id, { from, to, size = 1024 }) {
  const head = [
    `From: <${from}>`,
    `To: <${to}>`,
    `Subject: load ${id}`,
    `Message-Id: <${id}>`,
    `Date: ${new Date().toUTCString()}`,
    '',
  ];
  const line = 'x'.repeat(70);
  const body = Array.from({ length: Math.max(1, Math.floor(size / 72)) }, () => line);
  return [...head, ...body, trailer(id), ''].join('\r\n');
}

export const newLoadResult = () => ({ accepted: new Set(), refused: new Set(), errors: new Map() });

/** Reads SMTP replies from `socket`; `next()` resolves with { code, text } of the next full reply. */
function replyReader(socket, timeoutMs) {
  let buffer = '';
  let waiting = null;
  let failure = null;
  const take = () => {
    const lines = buffer.split('\r\n');
    for (let i = 0; i < lines.length - 1; i++) {
      if (lines[i][3] === '-') continue;
      const reply = lines.slice(0, i + 1);
      buffer = lines.slice(i + 1).join('\r\n');
      return { code: Number(reply[i].slice(0, 3)), text: reply.join('\n') };
    }
    return null;
  };
  const poke = () => {
    if (!waiting) return;
    const reply = take();
    if (reply) waiting.resolve(reply);
    else if (failure) waiting.reject(failure);
    else return;
    clearTimeout(waiting.timer);
    waiting = null;
  };
  socket.on('data', (d) => ((buffer += d.toString('latin1')), poke()));
  const fail = (e) => ((failure ??= e), poke());
  socket.on('error', fail);
  socket.on('close', () => fail(new Error('connection closed')));
  return {
    next: () =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiting = null;
          reject(new Error('reply timeout'));
        }, timeoutMs);
        waiting = { resolve, reject, timer };
        poke();
      }),
  };
}

/** One SMTP command (or null for the greeting); throws unless the reply code is `expect`. */
async function step(socket, reader, line, expect) {
  if (line !== null) socket.write(line);
  const reply = await reader.next();
  if (reply.code !== expect) throw Object.assign(new Error(reply.text), { reply });
  return reply;
}

async function openSession(port, helo, timeoutMs) {
  const socket = net.connect(port, '127.0.0.1');
  socket.setNoDelay(true);
  const reader = replyReader(socket, timeoutMs);
  try {
    await step(socket, reader, null, 220);
    await step(socket, reader, `EHLO ${helo}\r\n`, 250);
  } catch (e) {
    socket.destroy();
    throw e;
  }
  return { socket, reader };
}

/** Sends one message; true if it got 250 after the dot. Throws when the session is broken. */
async function sendOne(session, id, opts, onStarted) {
  const { socket, reader } = session;
  const to = typeof opts.to === 'function' ? opts.to(id) : opts.to;
  await step(socket, reader, `MAIL FROM:<${opts.from}>\r\n`, 250);
  onStarted();
  await step(socket, reader, `RCPT TO:<${to}>\r\n`, 250);
  await step(socket, reader, 'DATA\r\n', 354);
  return (await step(socket, reader, `${loadMessage(id, { ...opts, to })}.\r\n`, 250)).code === 250;
}

/**
 * Sends the messages `ids` (each once) to 127.0.0.1:`port` over `sessions` sessions. A message
 * whose session breaks before its MAIL FROM was answered is tried again on a new session (it
 * was never offered); one that fails after that counts as refused (and its session pauses 0.5 s). `stopAt` (epoch ms) ends
 * the load early. `to`: the recipient, or a function of the message's id that returns it. Fills and resolves with `result` ({ accepted: Set, refused: Set, errors:
 * Map<first line of the error, count> }), which may be passed in to watch the progress.
 */
export async function sendLoad(
  port,
  ids,
  { sessions = 10, from, to, size, helo = 'load.example', stopAt = Infinity, result = newLoadResult() },
) {
  const queue = [...ids];
  const note = (e) => {
    const key = String(e.message).split('\n')[0].slice(0, 60);
    result.errors.set(key, (result.errors.get(key) ?? 0) + 1);
  };
  const worker = async () => {
    let session = null;
    while (queue.length && Date.now() < stopAt) {
      const id = queue.shift();
      let started = false;
      try {
        session ??= await openSession(port, helo, 30_000);
        if (await sendOne(session, id, { from, to, size }, () => (started = true))) result.accepted.add(id);
      } catch (e) {
        note(e);
        session?.socket.destroy();
        session = null;
        if (started) result.refused.add(id);
        else queue.unshift(id);
        // A sender waits before it tries again; the pause also keeps a refusing server from
        // using up the whole load in a moment.
        await sleep(started ? 500 : 200);
      }
    }
    session?.socket.end('QUIT\r\n');
  };
  await Promise.all(Array.from({ length: sessions }, worker));
  return result;
}

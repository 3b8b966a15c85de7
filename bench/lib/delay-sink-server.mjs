#!/usr/bin/env node
// A slow SMTP receiver for the latency-bound benchmark (bench/e2e --latency-domains): accepts
// everything, but waits a fixed time before every reply (the greeting, EHLO, MAIL, RCPT, DATA,
// the final dot, RSET, QUIT...). Commands are answered one after another, as a server that
// works through a pipelined group one command at a time does: a group of three commands costs
// three delays. Listens on `port` of each of `addresses` (loopback addresses, one per MX).
//
// Why not Postfix's smtp-sink: its -w and -W delays are whole seconds (`-W MAIL:0.2` is refused
// as "non-positive"), and they apply to named commands, not to the greeting and every reply.
//
// Spawned by bench/lib/delay-sink.mjs with one argument, JSON {addresses, port, delayMs}.
// stdout: "L" once listening; "M <Message-Id or ->" per message received (at its final dot,
// before the delayed 250); "S <json>" (replies by command, connections) after each "stats" line on stdin.
import net from 'node:net';
import readline from 'node:readline';

const { addresses, port, delayMs } = JSON.parse(process.argv[2]);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
/** Replies sent, by the command they answer (CONNECT: the greeting; DOT: the end of data). */
const replies = {};
let connections = 0;

const EHLO = [
  '250-sink.bench',
  '250-PIPELINING',
  '250-8BITMIME',
  '250-ENHANCEDSTATUSCODES',
  '250-DSN',
  '250 SIZE 0',
];
const ANSWERS = {
  HELO: '250 sink.bench',
  MAIL: '250 2.1.0 Ok',
  RCPT: '250 2.1.5 Ok',
  DATA: '354 End data with <CR><LF>.<CR><LF>',
  RSET: '250 2.0.0 Ok',
  NOOP: '250 2.0.0 Ok',
  QUIT: '221 2.0.0 Bye',
};

/** Reads CRLF lines, and the data up to the end-of-data line, from a socket. */
function reader(socket) {
  let buffer = Buffer.alloc(0);
  let wake = null;
  let ended = false;
  socket.on('data', (d) => {
    buffer = buffer.length ? Buffer.concat([buffer, d]) : d;
    wake?.();
  });
  const end = () => ((ended = true), wake?.());
  socket.on('end', end);
  socket.on('close', end);
  socket.on('error', end);
  const until = async (find) => {
    for (;;) {
      const i = find(buffer);
      if (i >= 0) return i;
      if (ended) return -1;
      await new Promise((r) => (wake = r));
      wake = null;
    }
  };
  return {
    async line() {
      const i = await until((b) => b.indexOf('\r\n'));
      if (i < 0) return null;
      const line = buffer.subarray(0, i).toString('latin1');
      buffer = buffer.subarray(i + 2);
      return line;
    },
    /** The message up to "\r\n.\r\n" (RFC 5321 §4.1.1.4), without it; null if the peer left. */
    async data() {
      const i = await until((b) => (b.subarray(0, 3).toString() === '.\r\n' ? 0 : b.indexOf('\r\n.\r\n')));
      if (i < 0) return null;
      const text = buffer.subarray(0, i).toString('latin1');
      buffer = buffer.subarray(i === 0 ? 3 : i + 5);
      return text;
    },
  };
}

async function reply(socket, command, text) {
  await sleep(delayMs);
  replies[command] = (replies[command] ?? 0) + 1;
  if (!socket.destroyed) socket.write(`${text}\r\n`);
}

async function session(socket) {
  connections++;
  socket.setNoDelay(true);
  const input = reader(socket);
  await reply(socket, 'CONNECT', '220 sink.bench ESMTP');
  for (;;) {
    const line = await input.line();
    if (line === null) break;
    const verb = line.slice(0, 4).toUpperCase();
    if (verb === 'EHLO') await reply(socket, 'EHLO', EHLO.join('\r\n'));
    else if (verb === 'DATA') {
      await reply(socket, 'DATA', ANSWERS.DATA);
      const text = await input.data();
      if (text === null) break;
      const head = text.slice(0, text.search(/\r\n\r\n|$/));
      process.stdout.write(`M ${/^Message-Id:\s*(\S+)/im.exec(head)?.[1] ?? '-'}\n`);
      await reply(socket, 'DOT', '250 2.0.0 Ok: queued');
    } else if (ANSWERS[verb]) {
      await reply(socket, verb, ANSWERS[verb]);
      if (verb === 'QUIT') break;
    } else await reply(socket, 'OTHER', '502 5.5.2 Error: command not recognized');
  }
  socket.end();
}

let listening = 0;
for (const address of addresses)
  net
    .createServer((socket) => void session(socket).catch(() => socket.destroy()))
    .on('error', (e) => {
      process.stderr.write(`delay-sink: ${address}:${port}: ${e.message}\n`);
      process.exit(1);
    })
    .listen({ port, host: address, backlog: 511 }, () => {
      if (++listening === addresses.length) process.stdout.write('L\n');
    });

readline.createInterface({ input: process.stdin }).on('line', (line) => {
  if (line === 'stats') process.stdout.write(`S ${JSON.stringify({ replies, connections })}\n`);
});
process.stdin.on('end', () => process.exit(0));

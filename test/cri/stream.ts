// Streaming exec as kubectl does it: the URL CRI's Exec returns, served by containerd's
// streaming server, spoken over a WebSocket with the v4.channel.k8s.io protocol (each binary
// message starts with its channel: 0 stdin, 1 stdout, 2 stderr, 3 the closing status, 4 terminal
// resize). Needs node --experimental-websocket (Node 20's WebSocket).
interface Socket {
  binaryType: string;
  onopen: (() => void) | null;
  onmessage: ((ev: { data: ArrayBuffer }) => void) | null;
  onclose: (() => void) | null;
  onerror: ((ev: { message?: string }) => void) | null;
  send(data: Uint8Array): void;
  close(): void;
}
type SocketClass = new (url: string, protocols: string[]) => Socket;

export interface StreamResult { stdout: string; status: string }

/** Opens URL, sends a terminal size (COLS x ROWS) and STDIN, collects stdout and the status until the server closes. */
export function streamExec(url: string, cols: number, rows: number, stdin: string, seconds = 15): Promise<StreamResult> {
  const WS = (globalThis as unknown as { WebSocket?: SocketClass }).WebSocket;
  if (!WS) return Promise.reject(new Error('no WebSocket: run node with --experimental-websocket'));
  return new Promise((ok, fail) => {
    const ws = new WS(url.replace(/^http/, 'ws'), ['v4.channel.k8s.io']);
    ws.binaryType = 'arraybuffer';
    let stdout = '', status = '';
    const timer = setTimeout(() => { ws.close(); fail(new Error(`exec stream open after ${seconds}s; stdout so far ${JSON.stringify(stdout)}`)); }, seconds * 1000);
    const send = (channel: number, text: string) => ws.send(Buffer.concat([Buffer.from([channel]), Buffer.from(text)]));
    ws.onopen = () => {
      send(4, JSON.stringify({ Width: cols, Height: rows }));
      if (stdin) send(0, stdin);
    };
    ws.onmessage = (ev) => {
      const b = Buffer.from(ev.data);
      if (b.length === 0) return;
      if (b[0] === 1) stdout += b.subarray(1).toString();
      else if (b[0] === 3) status += b.subarray(1).toString();
    };
    ws.onerror = (ev) => { clearTimeout(timer); fail(new Error(`exec stream: ${ev.message ?? 'error'}`)); };
    ws.onclose = () => { clearTimeout(timer); ok({ stdout, status }); };
  });
}

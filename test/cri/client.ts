// A CRI client the tier owns (kubelet's side of the protocol), over test/cri/api.proto:
// crictl cannot be built here (no cri-tools source, no Go module proxy).
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { join, resolve } from 'node:path';

/** test/cri/api.proto: this file runs as build/test/cri/client.js. */
const PROTO = join(resolve(__dirname, '..', '..', '..'), 'test', 'cri', 'api.proto');

/** A message as proto-loader decodes it (longs as numbers, enums as names, defaults filled in). */
export type Msg = Record<string, any>;

type Unary = (req: Msg, meta: grpc.Metadata, opts: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res: Msg) => void) => void;

export interface CriClient {
  /** Calls RPC on the runtime (RuntimeService) or image (ImageService) service; deadline in seconds. */
  runtime(rpc: string, req?: Msg, deadline?: number): Promise<Msg>;
  image(rpc: string, req?: Msg, deadline?: number): Promise<Msg>;
  close(): void;
}

/** A client for the CRI socket at SOCK, speaking runtime.v1. */
export function criClient(sock: string): CriClient {
  const def = protoLoader.loadSync(PROTO, { keepCase: true, longs: Number, enums: String, defaults: true, oneofs: true });
  const pkg = grpc.loadPackageDefinition(def) as unknown as { runtime: { v1: Record<string, grpc.ServiceClientConstructor> } };
  const target = `unix://${sock}`;
  const rt = new pkg.runtime.v1.RuntimeService(target, grpc.credentials.createInsecure());
  const im = new pkg.runtime.v1.ImageService(target, grpc.credentials.createInsecure());
  const call = (c: grpc.Client, rpc: string, req: Msg, deadline: number) =>
    new Promise<Msg>((ok, fail) => {
      const fn = (c as unknown as Record<string, Unary>)[rpc];
      if (typeof fn !== 'function') return fail(new Error(`CRI: no RPC ${rpc}`));
      fn.call(c, req, new grpc.Metadata(), { deadline: Date.now() + deadline * 1000 }, (err, res) =>
        err ? fail(new Error(`CRI ${rpc}: ${err.details || err.message}`)) : ok(res));
    });
  return {
    runtime: (rpc, req = {}, deadline = 60) => call(rt, rpc, req, deadline),
    image: (rpc, req = {}, deadline = 60) => call(im, rpc, req, deadline),
    close: () => { rt.close(); im.close(); },
  };
}

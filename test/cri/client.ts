// A CRI client the tier owns (kubelet's side of the protocol), over test/cri/api.proto:
// crictl cannot be built here (no cri-tools source, no Go module proxy). test/cri/gen.mjs
// (build:test) generates from the .proto its types, with @grpc/proto-loader's
// proto-loader-gen-types and the options below (keepCase, longs Number, enums String,
// defaults, oneofs): a request is the message's input type (every field optional), a response
// its __Output type (every field present, decoded as here); and the .proto as JSON, loaded here.
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import type { ProtoGrpcType } from './generated/api.js';
import descriptor from './generated/api.json';
import type { ImageServiceClient } from './generated/runtime/v1/ImageService.js';
import type { RuntimeServiceClient } from './generated/runtime/v1/RuntimeService.js';

/** The request and response types of a unary method F of a generated client. */
type Req<F> = F extends (arg: infer A, cb: grpc.requestCallback<infer _R>) => grpc.ClientUnaryCall ? A : never;
type Res<F> = F extends (arg: infer _A, cb: grpc.requestCallback<infer R>) => grpc.ClientUnaryCall ? R : never;
/** The RPCs of a generated client C: its methods named as in the .proto (the generator adds a
 * lower-camel copy of each, grpc.Client its own lower-case methods). */
type Rpc<C> = { [K in keyof C & string]: K extends Capitalize<K> ? ([Req<C[K]>] extends [never] ? never : K) : never }[keyof C & string];

export type RuntimeRpc = Rpc<RuntimeServiceClient>;
export type ImageRpc = Rpc<ImageServiceClient>;

export interface CriClient {
  /** Calls RPC on the runtime (RuntimeService) or image (ImageService) service; deadline in seconds. */
  runtime<K extends RuntimeRpc>(rpc: K, req: Req<RuntimeServiceClient[K]>, deadline?: number): Promise<Res<RuntimeServiceClient[K]>>;
  image<K extends ImageRpc>(rpc: K, req: Req<ImageServiceClient[K]>, deadline?: number): Promise<Res<ImageServiceClient[K]>>;
  close(): void;
}

/** The one shape every unary method of a generated client has (the overload called here). */
type Unary<A, R> = (arg: A, meta: grpc.Metadata, opts: grpc.CallOptions, cb: grpc.requestCallback<R>) => grpc.ClientUnaryCall;

function call<C extends grpc.Client, K extends Rpc<C>>(c: C, rpc: K, req: Req<C[K]>, deadline: number): Promise<Res<C[K]>> {
  return new Promise((ok, fail) => {
    const fn = c[rpc] as unknown as Unary<Req<C[K]>, Res<C[K]>>;
    fn.call(c, req, new grpc.Metadata(), { deadline: Date.now() + deadline * 1000 }, (err, res) =>
      err ? fail(new Error(`CRI ${rpc}: ${err.details || err.message}`)) : res === undefined ? fail(new Error(`CRI ${rpc}: no response`)) : ok(res));
  });
}

/** A client for the CRI socket at SOCK, speaking runtime.v1. */
export function criClient(sock: string): CriClient {
  // (protobufjs's JSON form of the .proto: TypeScript types a JSON file by its literal shape)
  const def = protoLoader.fromJSON(descriptor as unknown as Parameters<typeof protoLoader.fromJSON>[0], { keepCase: true, longs: Number, enums: String, defaults: true, oneofs: true });
  const pkg = grpc.loadPackageDefinition(def) as unknown as ProtoGrpcType;
  const target = `unix://${sock}`;
  const rt = new pkg.runtime.v1.RuntimeService(target, grpc.credentials.createInsecure());
  const im = new pkg.runtime.v1.ImageService(target, grpc.credentials.createInsecure());
  return {
    runtime: (rpc, req, deadline = 60) => call(rt, rpc, req, deadline),
    image: (rpc, req, deadline = 60) => call(im, rpc, req, deadline),
    close: () => { rt.close(); im.close(); },
  };
}

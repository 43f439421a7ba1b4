// Generates test/cri/generated/ from test/cri/api.proto (npm run build:test; the dir is not
// committed): the CRI client's TypeScript types (@grpc/proto-loader's proto-loader-gen-types,
// with the options the client decodes with) and the .proto as protobufjs JSON, which the
// client loads: parsing the .proto at each start cost 5-8 s in the TCG guest, the JSON 1-2 s.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';

const here = dirname(fileURLToPath(import.meta.url));
const top = join(here, '..', '..');
const out = join(here, 'generated');
mkdirSync(out, { recursive: true });
execFileSync(join(top, 'node_modules', '.bin', 'proto-loader-gen-types'), ['--keepCase', '--longs=Number', '--enums=String', '--defaults',
  '--oneofs', '--grpcLib=@grpc/grpc-js', '-O', out, join(here, 'api.proto')], { stdio: ['ignore', 'ignore', 'inherit'] });
// (keepCase: the field names as in the .proto, as the types have them)
writeFileSync(join(out, 'api.json'), JSON.stringify(new protobuf.Root().loadSync(join(here, 'api.proto'), { keepCase: true }).toJSON()));

import { readFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { TsrunError } from '../errors.js';
import type { ConfigSchema } from './generated/config.js';
import { configSchemas } from './generated/config-schemas.js';
import { normalizeConfig } from './relax.js';
import { SchemaValidator, type SchemaError } from './schema.js';

export type Config = ConfigSchema;

/** Reads and schema-checks BUNDLE/config.json; errors name the field (as a JSON pointer). */
export function loadConfig(bundle: string): Config {
  const file = join(bundle, 'config.json');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    // Node's text is "ENOENT: no such file or directory, open '<file>'": keep the reason only.
    throw new TsrunError(`open ${file}: ${(e as Error).message.replace(/^[A-Z]+: /, '').replace(/, \w+ '.*'$/s, '')}`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new TsrunError(`parse ${file}: ${(e as Error).message}`);
  }
  const err = configError(normalizeConfig(data));
  if (err) {
    const where = err.instancePath.replace(/^\//, '').replaceAll('/', '.') || '(root)';
    const detail = 'allowedValues' in err.params ? `${err.message}: ${(err.params.allowedValues as unknown[]).join(', ')}` : err.message;
    throw new TsrunError(`invalid config.json: ${where}: ${detail}`);
  }
  return data as Config;
}

let validator: SchemaValidator | undefined;

/** The first error of `data` against the spec's config schema (config-schema.json, with src/spec/relax.ts's patches), if any. */
export function configError(data: unknown): SchemaError | undefined {
  validator ??= new SchemaValidator(configSchemas);
  return validator.validate('config-schema.json', data);
}

/** The rootfs path: relative paths are relative to the bundle. */
export function rootfsPath(bundle: string, cfg: Config): string {
  const p = cfg.root?.path;
  if (!p) throw new TsrunError('root.path: must be set');
  return isAbsolute(p) ? p : resolve(bundle, p);
}

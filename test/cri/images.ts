// The CRI tier's images through CRI's ImageService, from the tier's own registry (Debian's
// docker-registry on the loopback of the tier's network namespace, holding what
// test/cri/prepare.sh pushed; containerd's hosts.toml sends the name localhost/... there,
// test/cri/tier.sh): the pulls before the scenarios, as kubelet pulls an image before it starts
// a container, and the image-pull scenario. Environment: CRI_REGISTRY, CRI_SANDBOX_IMAGE.
import { createHash } from 'node:crypto';
import { BUSYBOX, check, cri, exec, LONG, runContainer, sleep, withPod } from './pods.js';

const REGISTRY = process.env.CRI_REGISTRY ?? '';
/** containerd's sandbox_image (the pause program), pulled with the busybox image. */
const SANDBOX_IMAGE = process.env.CRI_SANDBOX_IMAGE ?? '';

/** Pulls IMAGE through CRI. The registry starts with containerd: a pull refused a connection
 * is tried again, for up to SECONDS (kubelet retries a failed pull too). No fetch() here: its
 * first call loads undici, seconds under TCG in the systemd guest. */
async function pull(image: string, seconds = 60): Promise<string> {
  for (const end = Date.now() + seconds * 1000; ;) {
    try {
      return (await cri.image('PullImage', { image: { image } }, 120)).image_ref;
    } catch (e) {
      if (!/connection refused/.test((e as Error).message) || Date.now() > end) throw e;
      await sleep(100);
    }
  }
}

/** Pulls the images the pods use through CRI; returns the seconds it took. */
export async function pullImages(): Promise<number> {
  const t0 = Date.now();
  await Promise.all([BUSYBOX, SANDBOX_IMAGE].map((image) => pull(image)));
  return (Date.now() - t0) / 1000;
}

/** What the registry serves for NAME (localhost/REPO:TAG, the name the client pulls): the
 * manifest's digest, its config's digest (containerd's image ID) and the size of the manifest,
 * config and layers together (what the image takes in containerd's content store). */
async function served(name: string): Promise<{ digest: string; config: string; size: number }> {
  const m = /^localhost\/(.+):([^:/]+)$/.exec(name);
  check(m, `${name} is not localhost/REPO:TAG`);
  const res = await fetch(`http://${REGISTRY}/v2/${m[1]}/manifests/${m[2]}`, { headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } });
  check(res.ok, `the registry's manifest of ${name}: HTTP ${res.status}`);
  const body = Buffer.from(await res.arrayBuffer());
  const man = JSON.parse(body.toString()) as { config: { digest: string; size: number }; layers: Array<{ size: number }> };
  const size = body.length + man.config.size + man.layers.reduce((n, l) => n + l.size, 0);
  return { digest: `sha256:${createHash('sha256').update(body).digest('hex')}`, config: man.config.digest, size };
}

/** PullImage of an image the node does not have returns its ID (the config digest the registry
 * serves); ImageStatus and ListImages then show it under its name and its repo digest, with
 * its size; a container from it runs with the handler; a tag the registry does not have fails
 * naming the image and "not found"; RemoveImage removes it. One image per handler
 * (localhost/tsrun-cri/pulled:HANDLER, test/cri/prepare.sh): RemoveImage drops every name of an
 * image ID (the CRI api.proto's note on RemoveImage). */
export async function imagePull(h: string): Promise<void> {
  const image = `localhost/tsrun-cri/pulled:${h}`, repo = image.replace(/:[^:/]+$/, '');
  const want = await served(image);
  check(!(await cri.image('ImageStatus', { image: { image } })).image, `${image} is on the node before the pull`);
  const image_ref = await pull(image);
  check(image_ref === want.config, `PullImage returned ${image_ref}, want the registry's config digest ${want.config}`);
  const s = (await cri.image('ImageStatus', { image: { image } })).image;
  check(s, `ImageStatus: no ${image} after the pull`);
  const got = { id: s.id, tags: s.repo_tags, digests: s.repo_digests, size: s.size };
  const exp = { id: image_ref, tags: [image], digests: [`${repo}@${want.digest}`], size: want.size };
  check(JSON.stringify(got) === JSON.stringify(exp), `ImageStatus ${JSON.stringify(got)}, want ${JSON.stringify(exp)}`);
  const listed = (await cri.image('ListImages', {})).images.filter((i) => i.id === image_ref);
  check(listed.length === 1 && listed[0]?.size === want.size, `ListImages has ${JSON.stringify(listed)} for ${image_ref}`);
  await withPod(h, async (pod) => {
    const r = await exec(await runContainer(pod, 'pulled', LONG, { image }), 'echo from the pulled image');
    check(r.out === 'from the pulled image\n', `exec in a container of ${image}: ${JSON.stringify(r)}`);
  });
  const missing = `localhost/tsrun-cri/pulled:missing-${h}`;
  const err = await pull(missing).then(() => '', (e: Error) => e.message);
  check(err.includes(missing) && /not found/.test(err), `PullImage of a tag the registry lacks: ${JSON.stringify(err || 'no error')}`);
  check(!(await cri.image('ImageStatus', { image: { image: missing } })).image, `${missing} is on the node after its failed pull`);
  await cri.image('RemoveImage', { image: { image } });
  check(!(await cri.image('ImageStatus', { image: { image } })).image, `${image} is still there after RemoveImage`);
}

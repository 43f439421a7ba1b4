/** The global flags every command sees. */
export interface Globals {
  root: string;
  systemdCgroup: boolean;
  rootless: string;
  debug: boolean;
}

/** The runtime-spec version tsrun implements and writes in `state` and `spec`. */
export const SPEC_VERSION = '1.3.0';

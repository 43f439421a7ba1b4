/** An error whose message is shown to the caller as is (runc's wording where callers match it). */
export class TsrunError extends Error {
  constructor(message: string, readonly exitCode = 1) {
    super(message);
  }
}

/** runc's words for an ID with no container: a forced delete takes it as "nothing to do". */
export class NotFoundError extends TsrunError {
  constructor(id: string) {
    super(`container "${id}" does not exist`);
  }
}

/**
 * Bad command-line usage: as runc, the command's help goes to stdout under "Incorrect Usage."
 * (a wrong number of arguments, worded "tsrun: ..." as runc prefixes its own path) or under
 * "Incorrect Usage: MESSAGE" (a flag Go's flag package refused), then the error is logged.
 */
export class UsageError extends TsrunError {
  constructor(message: string, readonly command: string, readonly badFlag = false) {
    super(message);
  }
}

/** `--help` or `-h` among a command's flags: its help, exit 0. */
export class HelpRequested extends Error {}

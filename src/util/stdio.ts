/** The fd a call reads as its stdin (`update -r -`): 0, or the client's stdin in the server. */
export const stdio = { in: 0 };

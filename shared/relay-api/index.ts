/*
 * The relay ↔ client HTTP contract (relay/README.md "Client API"): schemas of every request,
 * answer, event and the error body, and the route table that names them. No Node, no DOM.
 */
export * from './issues.ts';
export * from './routes.ts';
export * from './schemas.ts';

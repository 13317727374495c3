/**
 * `npm start`: the main job. It starts the Antom sandbox and the merchant relay on loopback and
 * then the Electron app. Neither server has landed yet (issues #3 and #4), so for now it says
 * so and exits non-zero rather than pretending to run.
 */
console.error('npm start: the sandbox (issue #3) and the relay (issue #4) have not landed yet; nothing to start.');
process.exit(1);

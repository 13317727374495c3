import { qrPath } from './lib/qr.ts';
import { mount } from 'svelte';
import App from './App.svelte';
import './theme.css';

const target = document.getElementById('app');
if (!target) throw new Error('#app missing from index.html');
mount(App, { target });
// A window's first QR code would also pay for compiling the encoder and its first, slowest
// runs (~5 ms on top of the ~1.5 ms of the encoding): paid here once the page is idle instead,
// not while the player waits for the code.
requestIdleCallback(() => qrPath(''));

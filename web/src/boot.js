// SPDX-License-Identifier: MIT
// boot.js - inlined into index.html's head by build.mjs (a classic script, its hash in the
// server's Content-Security-Policy): starts the opening requests of the page in the URL
// (early.js) while the HTML is parsed, so the server works on them while the browser is
// still loading and running main.js.
import { startEarly } from './early.js';

startEarly();

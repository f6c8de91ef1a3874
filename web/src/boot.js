// SPDX-License-Identifier: MIT
// boot.js - loaded async ahead of the UI: starts the opening requests of the page in the URL
// (early.js) at once, so the server works on them while the browser is still loading and
// running main.js.
import { startEarly } from './early.js';

startEarly();

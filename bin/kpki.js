#!/usr/bin/env node
// The kpki executable: compiled entry point (built by `npm install` through the prepare script).
import "../dist/main.js";

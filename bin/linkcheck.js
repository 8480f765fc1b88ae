#!/usr/bin/env node
import { main } from '../dist/src/linkcheck.js';

main();

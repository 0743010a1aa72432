// html.js - the one place the vendored libraries are wired together:
// htm turns tagged template strings into Preact elements, so pages are
// components without a build step. Pages import from here, never from
// ../vendor/ directly, so a library swap touches this file alone.
import { h, render, Fragment } from '../vendor/preact.js';
import htm from '../vendor/htm.js';

export const html = htm.bind(h);
export { render, Fragment };
export { useState, useEffect, useRef, useCallback, useMemo } from '../vendor/hooks.js';

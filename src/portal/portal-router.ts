// Serves the admin page built from portal/ (portal/dist, built by `npm install` and `npm start`)
// at /portal: hashed assets cached for a year, index.html for every client route and never cached.
// Its Content-Security-Policy covers these responses only, so Apollo Sandbox on /graphql keeps its own.
import { existsSync } from 'node:fs';
import path from 'node:path';
import express, { type RequestHandler, type Router } from 'express';
import { findProjectRoot } from '../db/project-paths';

const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** Where the portal is built: portal/dist beside package.json. */
export function portalDirectory(): string {
  return path.join(findProjectRoot(), 'portal', 'dist');
}

const securityHeaders: RequestHandler = (_req, res, next) => {
  res.setHeader('Content-Security-Policy', CONTENT_SECURITY_POLICY);
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Referrer-Policy', 'no-referrer');
  next();
};

export function portalRouter(directory: string = portalDirectory()): Router {
  const router = express.Router();
  const indexFile = path.join(directory, 'index.html');
  router.use(securityHeaders);
  // Vite names every asset after a hash of its content: a new build has new names.
  router.use('/assets', express.static(path.join(directory, 'assets'), { index: false, immutable: true, maxAge: '365d' }));
  router.use('/assets', (_req, res) => {
    res.status(404).type('text/plain').send('Not found.');
  });
  router.get('/{*route}', (_req, res) => {
    if (!existsSync(indexFile)) {
      res.status(503).type('text/plain').send('The portal is not built: run `npm run portal:build` (npm install and npm start do).');
      return;
    }
    res.setHeader('Cache-Control', 'no-cache');
    res.sendFile(indexFile);
  });
  return router;
}

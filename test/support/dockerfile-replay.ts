// Builds a Dockerfile's image without a Docker engine, by replaying its instructions: each stage
// gets a directory of its own standing for its filesystem (container paths map under it, so
// WORKDIR /app is <stage>/app), the files are copied from the build context (.dockerignore
// applied) or from another stage in the Dockerfile's order, and the RUN commands run as written
// in the mapped WORKDIR with the stage's ENV. This machine's Node and npm stand in for the base
// image: only `node:` images are accepted. Stages run as BuildKit runs them: only those the last
// stage needs, each as soon as the stages it copies from are done. What cannot be mapped onto a
// directory (a RUN naming an absolute path, ADD, RUN --mount, SHELL) is refused, never skipped.
//
// Two things differ from a build on Docker, both about npm's cache, neither about what is
// installed: each stage's cache (<stage>/root/.npm, as in the container) starts as a copy of this
// machine's cache, whose content files are hard-linked (they are never rewritten), and npm is told
// to prefer it to the registry (npm_config_prefer_offline) without checking for its own updates.
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export type CommandForm = { exec: string[] } | { shell: string };

export interface Instruction {
  keyword: string;
  /** Everything after the keyword, continuation lines joined. */
  text: string;
  /** The line the instruction starts on (1-based). */
  line: number;
}

export interface DockerfileStage {
  /** The AS name, or the stage's index as text. */
  name: string;
  index: number;
  from: string;
  instructions: Instruction[];
}

export interface ParsedDockerfile {
  globalArgs: Instruction[];
  stages: DockerfileStage[];
}

export interface Healthcheck {
  options: Record<string, string>;
  command: CommandForm;
}

export interface ReplayedStage {
  name: string;
  /** The directory standing for the stage's `/`. */
  root: string;
  /** The FROM image (or the stage it builds on). */
  from: string;
  /** Container paths. */
  workdir: string;
  env: Record<string, string>;
  /** USER, `root` when none was set. */
  user: string;
  exposed: string[];
  healthcheck?: Healthcheck;
  cmd?: CommandForm;
  entrypoint?: CommandForm;
  /** The host path of a container path. */
  hostPath(containerPath: string): string;
}

export interface ReplayedImage {
  /** The last stage: what `docker build` tags. */
  runtime: ReplayedStage;
  stages: Map<string, ReplayedStage>;
}

export interface ReplayOptions {
  dockerfile: string;
  context: string;
  /** An empty directory outside the build context; each stage gets a folder in it. */
  workspace: string;
  /** This machine's npm cache, to start each stage's cache from (none: an empty cache). */
  npmCache?: string;
  /** Receives every line the RUN commands print, prefixed with the stage's name. */
  log?: (line: string) => void;
  /** How long one RUN may take (default 4 minutes). */
  runTimeoutMs?: number;
}

/** Users of the node images: root, and `node` (1000:1000). */
const IMAGE_USERS: Record<string, { uid: number; gid: number; home: string }> = {
  root: { uid: 0, gid: 0, home: '/root' },
  node: { uid: 1000, gid: 1000, home: '/home/node' },
};

/** Host variables that reach npm inside the build: how to get to the registry, nothing else. */
const PASSED_TO_BUILD = /^(npm_config_(registry|proxy|https_proxy|noproxy|cafile|strict_ssl)|https?_proxy|no_proxy)$/i;

export function parseDockerfile(text: string): ParsedDockerfile {
  const lines = text.split(/\r?\n/);
  const globalArgs: Instruction[] = [];
  const stages: DockerfileStage[] = [];
  let index = 0;
  // Parser directives (`# syntax=...`) come first; only the default escape character is replayed.
  while (index < lines.length && /^#\s*[a-z]+\s*=/i.test(lines[index])) {
    const directive = /^#\s*([a-z]+)\s*=\s*(.*)$/i.exec(lines[index]);
    if (directive && directive[1].toLowerCase() === 'escape' && directive[2].trim() !== '\\') {
      throw new Error(`line ${index + 1}: only the default escape character (\\) is replayed`);
    }
    index += 1;
  }
  while (index < lines.length) {
    const start = index;
    let logical = '';
    for (;;) {
      const line = lines[index] ?? '';
      index += 1;
      // Comment lines are dropped, also between continuation lines.
      if (/^\s*#/.test(line)) {
        if (logical === '') break;
        continue;
      }
      if (/\\\s*$/.test(line) && index < lines.length) {
        logical += line.replace(/\\\s*$/, '');
        continue;
      }
      logical += line;
      break;
    }
    if (logical.trim() === '') continue;
    const match = /^\s*(\S+)\s*([\s\S]*)$/.exec(logical);
    if (!match) continue;
    const instruction: Instruction = { keyword: match[1].toUpperCase(), text: match[2].trim(), line: start + 1 };
    if (instruction.keyword === 'FROM') {
      const words = splitWords(instruction.text);
      const flags = words.filter((word) => word.startsWith('--'));
      if (flags.length > 0) throw new Error(`line ${instruction.line}: FROM ${flags.join(' ')} is not replayed`);
      const named = words.length === 3 && words[1].toUpperCase() === 'AS';
      if (words.length !== 1 && !named) throw new Error(`line ${instruction.line}: cannot read FROM ${instruction.text}`);
      stages.push({ name: named ? words[2] : String(stages.length), index: stages.length, from: words[0], instructions: [] });
    } else if (stages.length === 0) {
      if (instruction.keyword !== 'ARG') throw new Error(`line ${instruction.line}: ${instruction.keyword} before the first FROM`);
      globalArgs.push(instruction);
    } else {
      stages[stages.length - 1].instructions.push(instruction);
    }
  }
  if (stages.length === 0) throw new Error('the Dockerfile has no FROM');
  return { globalArgs, stages };
}

/** Splits on whitespace, honouring single and double quotes and backslash escapes, as Docker does for COPY, ENV and the like. */
export function splitWords(text: string): string[] {
  const words: string[] = [];
  let current = '';
  let inWord = false;
  let quote: string | null = null;
  for (let i = 0; i < text.length; i += 1) {
    const char = text[i];
    if (quote) {
      if (char === quote) quote = null;
      else if (char === '\\' && quote === '"' && i + 1 < text.length) current += text[++i];
      else current += char;
    } else if (char === '"' || char === "'") {
      quote = char;
      inWord = true;
    } else if (char === '\\' && i + 1 < text.length) {
      current += text[++i];
      inWord = true;
    } else if (/\s/.test(char)) {
      if (inWord) words.push(current);
      current = '';
      inWord = false;
    } else {
      current += char;
      inWord = true;
    }
  }
  if (quote) throw new Error(`unterminated quote in: ${text}`);
  if (inWord) words.push(current);
  return words;
}

/** `["a", "b"]` (exec form) or anything else (shell form). */
export function parseCommand(text: string): CommandForm {
  if (text.trimStart().startsWith('[')) {
    const parsed: unknown = JSON.parse(text);
    if (!Array.isArray(parsed) || parsed.length === 0 || !parsed.every((part) => typeof part === 'string')) {
      throw new Error(`not a JSON array of strings: ${text}`);
    }
    return { exec: parsed };
  }
  return { shell: text };
}

/** Expands $NAME and ${NAME} (and ${NAME:-default}) the way Docker does in COPY, ENV, WORKDIR, USER and EXPOSE. */
function substitute(text: string, variables: Record<string, string>): string {
  return text.replace(
    /\\\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(:-([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g,
    (whole, braced, _d, fallback, bare) => {
      if (whole === '\\$') return '$';
      const name = (braced ?? bare) as string;
      const value = variables[name];
      return value === undefined || value === '' ? ((fallback as string | undefined) ?? '') : value;
    },
  );
}

/** .dockerignore, as Docker's pattern matcher reads it: the last matching rule wins, and a rule matching a folder matches what it holds. */
export class DockerIgnore {
  private readonly rules: { negated: boolean; pattern: RegExp }[];

  constructor(text: string) {
    this.rules = text
      .split(/\r?\n/)
      .map((line) => line.trim())
      .filter((line) => line !== '' && !line.startsWith('#'))
      .map((line) => {
        const negated = line.startsWith('!');
        const cleaned = path.posix
          .normalize((negated ? line.slice(1) : line).trim())
          .replace(/^\/+/, '')
          .replace(/\/+$/, '');
        return { negated, pattern: globToRegExp(cleaned) };
      });
  }

  static forContext(context: string): DockerIgnore {
    const file = path.join(context, '.dockerignore');
    return new DockerIgnore(fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '');
  }

  get hasExceptions(): boolean {
    return this.rules.some((rule) => rule.negated);
  }

  /** `relativePath`: relative to the context, `/`-separated. */
  excludes(relativePath: string): boolean {
    const candidates: string[] = [];
    const parts = relativePath.split('/');
    for (let i = 1; i <= parts.length; i += 1) candidates.push(parts.slice(0, i).join('/'));
    let excluded = false;
    for (const rule of this.rules) {
      if (candidates.some((candidate) => rule.pattern.test(candidate))) excluded = !rule.negated;
    }
    return excluded;
  }
}

function globToRegExp(glob: string): RegExp {
  let source = '';
  for (let i = 0; i < glob.length; i += 1) {
    const char = glob[i];
    if (char === '*' && glob[i + 1] === '*') {
      i += 1;
      if (glob[i + 1] === '/') {
        i += 1;
        source += '(?:.*/)?';
      } else {
        source += '.*';
      }
    } else if (char === '*') source += '[^/]*';
    else if (char === '?') source += '[^/]';
    else if (char === '[') {
      const end = glob.indexOf(']', i);
      if (end === -1) source += '\\[';
      else {
        source += `[${glob.slice(i + 1, end).replace(/^!/, '^')}]`;
        i = end;
      }
    } else source += char.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`);
}

interface StageState extends ReplayedStage {
  args: Record<string, string>;
}

/** Replays the Dockerfile; resolves with the stages once the last one is built, or rejects with the first failure. */
export async function replayDockerfile(options: ReplayOptions): Promise<ReplayedImage> {
  const parsed = parseDockerfile(fs.readFileSync(options.dockerfile, 'utf8'));
  const context = path.resolve(options.context);
  const workspace = path.resolve(options.workspace);
  if (!path.relative(context, workspace).startsWith('..')) throw new Error('the workspace must lie outside the build context');
  fs.chmodSync(workspace, 0o755);
  const ignore = DockerIgnore.forContext(context);
  const globalArgs = readArgs(parsed.globalArgs, {});
  const byName = new Map(parsed.stages.map((stage) => [stage.name.toLowerCase(), stage]));
  const stageNamed = (name: string) => byName.get(name.toLowerCase()) ?? parsed.stages[Number(name)];

  const dependencies = (stage: DockerfileStage): DockerfileStage[] => {
    const found = new Set<DockerfileStage>();
    const from = byName.get(substitute(stage.from, globalArgs).toLowerCase());
    if (from) found.add(from);
    for (const instruction of stage.instructions) {
      const flag = instruction.keyword === 'COPY' ? /--from=(\S+)/.exec(instruction.text) : null;
      const source = flag ? stageNamed(flag[1]) : undefined;
      if (flag && !source) throw new Error(`line ${instruction.line}: COPY --from=${flag[1]} names no stage`);
      if (source) found.add(source);
    }
    for (const needed of found) if (needed.index >= stage.index) throw new Error(`stage ${stage.name} uses a later stage`);
    return [...found];
  };

  const builds = new Map<DockerfileStage, Promise<StageState>>();
  const build = (stage: DockerfileStage): Promise<StageState> => {
    let pending = builds.get(stage);
    if (!pending) {
      pending = Promise.all(dependencies(stage).map(build)).then(async (done) => {
        const built = new Map(done.map((state) => [state.name.toLowerCase(), state]));
        return replayStage(stage, { options, context, workspace, ignore, globalArgs, built, stageNamed });
      });
      builds.set(stage, pending);
    }
    return pending;
  };

  const last = parsed.stages[parsed.stages.length - 1];
  const final = build(last);
  // A failed stage fails the build, but only once every stage still running has stopped.
  const outcomes = await Promise.allSettled([final, ...builds.values()]);
  const failure = outcomes.find((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected');
  if (failure) throw failure.reason;
  const stages = new Map<string, ReplayedStage>();
  for (const pending of builds.values()) {
    const state = await pending;
    stages.set(state.name, state);
  }
  return { runtime: await final, stages };
}

interface ReplayContext {
  options: ReplayOptions;
  context: string;
  workspace: string;
  ignore: DockerIgnore;
  globalArgs: Record<string, string>;
  built: Map<string, StageState>;
  stageNamed: (name: string) => DockerfileStage | undefined;
}

function readArgs(instructions: Instruction[], into: Record<string, string>): Record<string, string> {
  for (const instruction of instructions) {
    const [name, ...rest] = instruction.text.split('=');
    into[name.trim()] = rest.join('=');
  }
  return into;
}

async function replayStage(stage: DockerfileStage, replay: ReplayContext): Promise<StageState> {
  const from = substitute(stage.from, replay.globalArgs);
  const root = path.join(replay.workspace, `${stage.index}-${stage.name.replace(/[^A-Za-z0-9_.-]/g, '_')}`);
  const hostPath = (containerPath: string) => path.join(root, path.posix.resolve('/', containerPath));
  const parent = replay.built.get(from.toLowerCase());
  let state: StageState;
  if (parent) {
    fs.cpSync(parent.root, root, { recursive: true, verbatimSymlinks: true, preserveTimestamps: true });
    state = { ...parent, name: stage.name, root, from, hostPath, env: { ...parent.env }, args: {}, exposed: [...parent.exposed] };
  } else {
    if (!/^node:/.test(from))
      throw new Error(`stage ${stage.name}: FROM ${from}: only node images are stood in for (by this machine's Node)`);
    fs.mkdirSync(root, { mode: 0o755 });
    fs.chmodSync(root, 0o755);
    for (const folder of ['tmp', 'root', 'home/node']) fs.mkdirSync(path.join(root, folder), { recursive: true, mode: 0o755 });
    fs.chmodSync(path.join(root, 'tmp'), 0o1777);
    fs.chmodSync(path.join(root, 'root'), 0o700);
    chownIfRoot(path.join(root, 'home/node'), IMAGE_USERS.node);
    if (replay.options.npmCache) seedNpmCache(replay.options.npmCache, path.join(root, 'root', '.npm'));
    state = { name: stage.name, root, from, workdir: '/', env: {}, user: 'root', exposed: [], hostPath, args: {} };
  }

  for (const instruction of stage.instructions) {
    const where = `stage ${stage.name}, line ${instruction.line}`;
    const variables = { ...state.args, ...state.env };
    switch (instruction.keyword) {
      case 'ARG':
        readArgs([instruction], state.args);
        for (const [name, value] of Object.entries(state.args))
          if (value === '' && replay.globalArgs[name]) state.args[name] = replay.globalArgs[name];
        break;
      case 'ENV':
        Object.assign(state.env, parseEnv(substitute(instruction.text, variables)));
        break;
      case 'WORKDIR':
        state.workdir = path.posix.resolve(state.workdir, substitute(instruction.text, variables));
        fs.mkdirSync(hostPath(state.workdir), { recursive: true, mode: 0o755 });
        break;
      case 'COPY':
        copy(state, substitute(instruction.text, variables), replay, where);
        break;
      case 'RUN':
        await run(state, instruction.text, replay, where);
        break;
      case 'USER': {
        const user = substitute(instruction.text, variables).trim();
        if (!(user.split(':')[0] in IMAGE_USERS))
          throw new Error(`${where}: USER ${user}: only ${Object.keys(IMAGE_USERS).join(' and ')} exist in node images`);
        state.user = user.split(':')[0];
        break;
      }
      case 'EXPOSE':
        state.exposed.push(...splitWords(substitute(instruction.text, variables)));
        break;
      case 'HEALTHCHECK':
        state.healthcheck = parseHealthcheck(instruction.text, where);
        break;
      case 'CMD':
        state.cmd = parseCommand(instruction.text);
        break;
      case 'ENTRYPOINT':
        state.entrypoint = parseCommand(instruction.text);
        break;
      case 'LABEL':
      case 'STOPSIGNAL':
        break;
      default:
        throw new Error(`${where}: ${instruction.keyword} is not replayed`);
    }
  }
  return state;
}

function parseEnv(text: string): Record<string, string> {
  const words = splitWords(text);
  if (words.length > 0 && !words[0].includes('=')) {
    // The old form: ENV NAME value with spaces
    const [name] = words;
    return { [name]: text.slice(text.indexOf(name) + name.length).trim() };
  }
  const env: Record<string, string> = {};
  for (const word of words) {
    const at = word.indexOf('=');
    if (at <= 0) throw new Error(`cannot read ENV ${text}`);
    env[word.slice(0, at)] = word.slice(at + 1);
  }
  return env;
}

function parseHealthcheck(text: string, where: string): Healthcheck | undefined {
  if (text.trim().toUpperCase() === 'NONE') return undefined;
  const options: Record<string, string> = {};
  let rest = text.trim();
  for (;;) {
    const option = /^--([a-z-]+)=(\S+)\s+/.exec(rest);
    if (!option) break;
    options[option[1]] = option[2];
    rest = rest.slice(option[0].length);
  }
  const command = /^CMD\s+([\s\S]+)$/i.exec(rest);
  if (!command) throw new Error(`${where}: cannot read HEALTHCHECK ${text}`);
  return { options, command: parseCommand(command[1]) };
}

function copy(state: StageState, text: string, replay: ReplayContext, where: string): void {
  let words = text.trimStart().startsWith('[') ? (parseCommand(text) as { exec: string[] }).exec : splitWords(text);
  let fromStage: StageState | undefined;
  for (const flag of words.filter((word) => word.startsWith('--'))) {
    const [name, value] = flag.slice(2).split('=', 2);
    if (name === 'from') {
      const source = replay.stageNamed(value);
      fromStage = source ? replay.built.get(source.name.toLowerCase()) : undefined;
      if (!fromStage) throw new Error(`${where}: COPY --from=${value}: no such stage has been built`);
    } else if (name !== 'link') {
      throw new Error(`${where}: COPY --${name} is not replayed`);
    }
  }
  words = words.filter((word) => !word.startsWith('--'));
  if (words.length < 2) throw new Error(`${where}: COPY needs a source and a destination`);
  const destination = words[words.length - 1];
  const sources = words.slice(0, -1);
  const destinationPath = path.posix.resolve(state.workdir, destination);
  const intoFolder = destination.endsWith('/') || sources.length > 1;
  for (const source of sources) {
    if (/[*?[]/.test(source)) throw new Error(`${where}: COPY ${source}: wildcards are not replayed`);
    let hostSource: string;
    let relative: string | undefined;
    if (fromStage) {
      hostSource = fromStage.hostPath(source);
    } else {
      relative = path.posix
        .normalize(source)
        .replace(/^(\.\/)+/, '')
        .replace(/^\/+/, '')
        .replace(/\/+$/, '');
      if (relative === '..' || relative.startsWith('../')) throw new Error(`${where}: COPY ${source} leaves the build context`);
      if (relative !== '.' && replay.ignore.excludes(relative)) throw new Error(`${where}: COPY ${source}: excluded by .dockerignore`);
      hostSource = path.join(replay.context, relative);
    }
    if (!fs.existsSync(hostSource)) {
      throw new Error(`${where}: COPY ${source}: not found ${fromStage ? `in stage ${fromStage.name}` : 'in the build context'}`);
    }
    const stat = fs.lstatSync(hostSource);
    if (stat.isDirectory()) {
      copyTree(hostSource, state.hostPath(destinationPath), fromStage ? undefined : { ignore: replay.ignore, relative: relative ?? '.' });
    } else {
      const target = intoFolder ? path.posix.join(destinationPath, path.posix.basename(source)) : destinationPath;
      fs.mkdirSync(path.dirname(state.hostPath(target)), { recursive: true, mode: 0o755 });
      copyEntry(hostSource, state.hostPath(target), stat);
    }
  }
}

/** Copies a folder's content into `target` (merging with what is there), skipping what .dockerignore excludes. */
function copyTree(source: string, target: string, filter: { ignore: DockerIgnore; relative: string } | undefined): void {
  fs.mkdirSync(target, { recursive: true, mode: 0o755 });
  for (const entry of fs.readdirSync(source, { withFileTypes: true })) {
    const from = path.join(source, entry.name);
    const to = path.join(target, entry.name);
    const relative = filter ? (filter.relative === '.' ? entry.name : `${filter.relative}/${entry.name}`) : undefined;
    const excluded = filter && relative !== undefined && filter.ignore.excludes(relative);
    if (entry.isDirectory()) {
      // An excluded folder may still hold an exception (`!folder/file`); without exceptions it is skipped whole.
      if (excluded && !filter.ignore.hasExceptions) continue;
      copyTree(from, to, filter && relative !== undefined ? { ignore: filter.ignore, relative } : undefined);
      if (excluded && fs.readdirSync(to).length === 0) fs.rmdirSync(to);
    } else if (!excluded) {
      copyEntry(from, to, fs.lstatSync(from));
    }
  }
}

function copyEntry(from: string, to: string, stat: fs.Stats): void {
  if (stat.isSymbolicLink()) {
    fs.rmSync(to, { force: true });
    fs.symlinkSync(fs.readlinkSync(from), to);
    return;
  }
  fs.copyFileSync(from, to);
  fs.chmodSync(to, stat.mode & 0o7777);
}

async function run(state: StageState, text: string, replay: ReplayContext, where: string): Promise<void> {
  if (/^--/.test(text)) throw new Error(`${where}: RUN ${text.split(/\s/)[0]} is not replayed`);
  const command = parseCommand(text);
  const words = 'exec' in command ? command.exec : splitWords(command.shell.replace(/[;&|()<>]/g, ' '));
  const absolute = words.find((word) => word.startsWith('/'));
  if (absolute) throw new Error(`${where}: RUN names ${absolute}, a path the replay cannot map into the stage`);
  const log = replay.options.log ?? (() => undefined);
  const user = IMAGE_USERS[state.user];
  const environment: NodeJS.ProcessEnv = {
    ...Object.fromEntries(Object.entries(process.env).filter(([name]) => PASSED_TO_BUILD.test(name))),
    PATH: process.env.PATH,
    HOME: state.hostPath(user.home),
    npm_config_prefer_offline: 'true',
    npm_config_update_notifier: 'false',
    ...state.args,
    ...mapPaths(state.env, state),
  };
  log(`[${state.name}] RUN ${text}`);
  const child =
    'exec' in command
      ? spawn(command.exec[0], command.exec.slice(1), {
          cwd: state.hostPath(state.workdir),
          env: environment,
          detached: true,
          ...ids(user),
        })
      : spawn('/bin/sh', ['-c', command.shell], { cwd: state.hostPath(state.workdir), env: environment, detached: true, ...ids(user) });
  const tail: string[] = [];
  const collect = (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (line.trim() === '') continue;
      log(`[${state.name}] ${line}`);
      tail.push(line);
      if (tail.length > 40) tail.shift();
    }
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const timeoutMs = replay.options.runTimeoutMs ?? 240_000;
  const code = await new Promise<number | string>((resolve) => {
    const timer = setTimeout(() => {
      killGroup(child);
      resolve(`killed after ${timeoutMs} ms`);
    }, timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      resolve(error.message);
    });
    child.on('exit', (exitCode, signal) => {
      clearTimeout(timer);
      resolve(exitCode ?? `signal ${signal}`);
    });
  });
  if (code !== 0) throw new Error(`${where}: RUN ${text} failed (${code}):\n${tail.join('\n')}`);
}

/** ENV values that are one absolute path name a place in the container: they get its place in the stage. */
function mapPaths(env: Record<string, string>, stage: ReplayedStage): Record<string, string> {
  return Object.fromEntries(Object.entries(env).map(([name, value]) => [name, /^\/[^\s:]*$/.test(value) ? stage.hostPath(value) : value]));
}

/** The uid and gid to run a stage's user as: only a root test process can switch, any other runs as itself. */
function ids(user: { uid: number; gid: number }): { uid?: number; gid?: number } {
  return process.getuid?.() === 0 && user.uid !== 0 ? { uid: user.uid, gid: user.gid } : {};
}

function chownIfRoot(target: string, user: { uid: number; gid: number }): void {
  if (process.getuid?.() === 0) fs.chownSync(target, user.uid, user.gid);
}

function killGroup(child: ChildProcess): void {
  try {
    if (child.pid) process.kill(-child.pid, 'SIGKILL');
  } catch {
    child.kill('SIGKILL');
  }
}

/** A copy of the machine's npm cache for one stage: content files hard-linked (copied across filesystems), the index copied. */
function seedNpmCache(machineCache: string, stageCache: string): void {
  const source = path.join(machineCache, '_cacache');
  if (!fs.existsSync(source)) return;
  const target = path.join(stageCache, '_cacache');
  const link = (from: string, to: string) => {
    fs.mkdirSync(to, { recursive: true });
    for (const entry of fs.readdirSync(from, { withFileTypes: true })) {
      const entryFrom = path.join(from, entry.name);
      const entryTo = path.join(to, entry.name);
      if (entry.isDirectory()) link(entryFrom, entryTo);
      else if (entry.isFile()) {
        try {
          fs.linkSync(entryFrom, entryTo);
        } catch {
          fs.copyFileSync(entryFrom, entryTo);
        }
      }
    }
  };
  if (fs.existsSync(path.join(source, 'content-v2'))) link(path.join(source, 'content-v2'), path.join(target, 'content-v2'));
  if (fs.existsSync(path.join(source, 'index-v5')))
    fs.cpSync(path.join(source, 'index-v5'), path.join(target, 'index-v5'), { recursive: true });
}

export interface ContainerOptions {
  /** `docker run -e`: on top of the image's ENV. */
  env?: Record<string, string>;
  /** Instead of the image's CMD. */
  command?: CommandForm;
}

/**
 * Starts a process as `docker run` would start the replayed stage: ENTRYPOINT and CMD, in its
 * WORKDIR, as its USER, with its ENV (absolute paths mapped into the stage) and `env` on top, and
 * nothing else from this process's environment but PATH (for the machine's node).
 */
export function startContainer(stage: ReplayedStage, options: ContainerOptions = {}): ChildProcess {
  const command = options.command ?? stage.cmd;
  if (!command) throw new Error(`stage ${stage.name} has no CMD`);
  const argv = [...(stage.entrypoint ? commandArgv(stage.entrypoint) : []), ...commandArgv(command)];
  const user = IMAGE_USERS[stage.user];
  assertNoModulesOutside(stage);
  return spawn(argv[0], argv.slice(1), {
    cwd: stage.hostPath(stage.workdir),
    env: {
      PATH: process.env.PATH,
      HOME: stage.hostPath(user.home),
      HOSTNAME: 'replayed-image',
      ...mapPaths(stage.env, stage),
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    ...ids(user),
  });
}

function commandArgv(command: CommandForm): string[] {
  return 'exec' in command ? command.exec : ['/bin/sh', '-c', command.shell];
}

/** Node looks for packages in every node_modules above the stage too: none may be there, or a missing one would be found. */
function assertNoModulesOutside(stage: ReplayedStage): void {
  for (let folder = path.dirname(stage.root); ; folder = path.dirname(folder)) {
    if (fs.existsSync(path.join(folder, 'node_modules'))) throw new Error(`${folder}/node_modules would be visible to the replayed image`);
    if (path.dirname(folder) === folder) break;
  }
}

/** Runs the stage's HEALTHCHECK command the way Docker does: inside the container, with its environment. */
export async function runHealthcheck(
  stage: ReplayedStage,
  env: Record<string, string> = {},
): Promise<{ code: number | null; output: string }> {
  if (!stage.healthcheck) throw new Error(`stage ${stage.name} has no HEALTHCHECK`);
  const child = startContainer({ ...stage, entrypoint: undefined }, { env, command: stage.healthcheck.command });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  return { code, output };
}

/** Disk use of a folder in KiB, as `du -sk` reports it. */
export function diskUsageKiB(folder: string): number {
  const seen = new Set<string>();
  const walk = (target: string): number => {
    const stat = fs.lstatSync(target);
    const key = `${stat.dev}:${stat.ino}`;
    if (seen.has(key)) return 0;
    seen.add(key);
    let blocks = stat.blocks;
    if (stat.isDirectory()) for (const entry of fs.readdirSync(target)) blocks += walk(path.join(target, entry));
    return blocks;
  };
  return Math.round(walk(folder) / 2);
}

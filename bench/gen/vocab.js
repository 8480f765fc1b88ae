// @ts-check
// The names a generated tree is made of: apps, Rails resources, gems, npm packages, words for
// files, exotic names (spaces, non-ASCII) and link names.

export const APP_NAMES = ['shop', 'blog', 'api', 'admin', 'billing', 'wiki', 'crm', 'status', 'docs', 'forum', 'mailer', 'search'];
export const RESOURCES = [
  'user', 'post', 'comment', 'order', 'invoice', 'product', 'cart', 'session', 'account', 'report',
  'payment', 'tag', 'category', 'notification', 'subscription', 'webhook', 'audit', 'team', 'project',
  'ticket', 'attachment', 'address', 'coupon', 'shipment', 'review', 'message', 'event', 'setting',
];
export const GEMS = [
  'rack', 'rails', 'actionpack', 'actionview', 'activerecord', 'activesupport', 'activejob', 'nokogiri',
  'puma', 'sidekiq', 'redis', 'pg', 'devise', 'pundit', 'kaminari', 'rspec-core', 'rspec-mocks',
  'rubocop', 'faker', 'bootsnap', 'sprockets', 'tzinfo', 'i18n', 'concurrent-ruby', 'mini_portile2',
  'thor', 'zeitwerk', 'json', 'bcrypt', 'aws-sdk-s3', 'aws-sdk-core', 'capybara', 'selenium-webdriver',
  'mail', 'net-smtp', 'racc', 'loofah', 'builder', 'erubi', 'globalid', 'marcel', 'rake', 'jbuilder',
  'image_processing', 'ruby-vips', 'msgpack', 'ffi', 'websocket-driver', 'sassc', 'turbo-rails',
];
export const NPM = [
  'react', 'react-dom', 'lodash', 'webpack', 'webpack-cli', 'esbuild', 'postcss', 'autoprefixer',
  'jquery', 'moment', 'core-js', 'chart.js', 'axios', 'debug', 'ms', 'semver', 'chalk', 'commander',
  'glob', 'minimatch', 'rimraf', 'mkdirp', 'uuid', 'qs', 'express', 'tslib', 'sass', 'nanoid',
  '@babel/core', '@babel/preset-env', '@babel/runtime', '@rails/ujs', '@rails/actioncable',
  '@hotwired/turbo', '@hotwired/stimulus', '@popperjs/core', 'bootstrap', 'tailwindcss',
];
export const NPM_BINS = new Set(['webpack', 'webpack-cli', 'esbuild', 'postcss', 'semver', 'glob', 'rimraf', 'mkdirp', 'uuid', 'sass', 'nanoid', 'tailwindcss']);
export const WORDS = [
  'base', 'helper', 'util', 'config', 'index', 'main', 'core', 'version', 'errors', 'parser', 'adapter',
  'client', 'server', 'cache', 'store', 'railtie', 'engine', 'middleware', 'request', 'response',
  'router', 'session', 'cookie', 'logger', 'format', 'encoder', 'decoder', 'schema', 'model', 'query',
  'builder', 'visitor', 'node', 'tree', 'token', 'lexer', 'compiler', 'runtime', 'loader', 'registry',
  'callbacks', 'validations', 'associations', 'migration', 'connection', 'pool', 'transaction', 'type',
];
export const EXOTIC = [
  'Read Me', 'café', 'naïve', '日本語', 'résumé template', 'Ünïcödé file', 'emoji 🎉', 'über config',
  'ñandú', 'Straße', 'файл', 'copy of index', 'notes (old)', 'draft v2', 'Ελληνικά', 'a b c', '中文 说明',
];
export const RB_EXT = ['.rb', '.rb', '.rb', '.rb', '.rake', '.yml', '.erb'];
export const JS_EXT = ['.js', '.js', '.js', '.mjs', '.cjs', '.d.ts', '.json', '.map'];
export const LINK_NAMES = [
  'shared', 'current', 'latest', 'assets', 'uploads', 'cache', 'pids', 'logs', 'config', 'data',
  'vendor', 'public', 'system', 'tmp', 'link', 'alias', 'prev', 'next', 'storage', 'media', 'packs',
  'database.yml', 'settings.yml', 'secrets.yml', 'app.js', 'main.css', 'favicon.ico', 'robots.txt',
];
export const MISSING = ['missing.yml', 'application.yml.bak', 'old', 'tmp/cache/old', 'config/credentials.yml.enc', 'public/packs-test', 'storage'];

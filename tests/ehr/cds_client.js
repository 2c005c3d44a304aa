// A CDS Hooks 2.0 client that knows nothing of achilles-cds beyond the
// spec: discover the services, call each patient-view service (and each
// order-sign service, with a draft running order) with a FHIR prefetch
// built from the bundle, sign every request with an RS384 JWT, and print
// the cards as an EHR would render them. Node standard library
// only. Usage: node cds_client.js BASE_URL CA.pem EHR_KEY.pem BUNDLE.json
'use strict';
const https = require('https');
const crypto = require('crypto');
const fs = require('fs');

const [base, caFile, keyFile, bundleFile] = process.argv.slice(2);
const ca = fs.readFileSync(caFile);
const key = crypto.createPrivateKey(fs.readFileSync(keyFile));

function b64url(buf) {
  return Buffer.from(buf).toString('base64')
      .replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_');
}

// The EHR's identity: issuer, key id and algorithm (RS384 or ES384).
const iss = process.env.CDS_ISS || 'https://ehr.test';
const kid = process.env.CDS_KID || 'k1';
const alg = process.env.CDS_ALG || 'RS384';

function jwt(aud) {
  const now = Math.floor(Date.now() / 1000);
  const header = {alg, typ: 'JWT', kid};
  const claims = {iss, sub: 'node-client', aud,
                  iat: now, exp: now + 300, jti: crypto.randomUUID()};
  const input = b64url(JSON.stringify(header)) + '.' +
      b64url(JSON.stringify(claims));
  // JWS ECDSA signatures are r || s, not DER.
  const sig = crypto.sign('sha384', Buffer.from(input),
      alg === 'ES384' ? {key, dsaEncoding: 'ieee-p1363'} : key);
  return input + '.' + b64url(sig);
}

function request(method, url, body, token) {
  return new Promise((resolve, reject) => {
    const headers = {'Accept': 'application/json'};
    if (body) headers['Content-Type'] = 'application/json';
    if (token) headers['Authorization'] = 'Bearer ' + token;
    const req = https.request(url, {method, ca, headers}, (res) => {
      let data = '';
      res.on('data', (c) => data += c);
      res.on('end', () => resolve({status: res.statusCode, body: data}));
    });
    req.on('error', reject);
    if (body) req.write(JSON.stringify(body));
    req.end();
  });
}

// Prefetch as an EHR fills the templates: the Patient, and searchsets.
function prefetchFrom(bundle) {
  const pf = {};
  const search = (type) => ({resourceType: 'Bundle', type: 'searchset',
    entry: bundle.entry.filter((e) => e.resource.resourceType === type)});
  for (const e of bundle.entry) {
    if (e.resource.resourceType === 'Patient') pf.patient = e.resource;
  }
  pf.observations = search('Observation');
  pf.questionnaires = search('QuestionnaireResponse');
  pf.conditions = search('Condition');
  return pf;
}

// The order an EHR is about to sign: a running prescription, coded as the
// EHR's order catalogue maps it (docs/EHR.md, order-sign).
function draftRunningOrder(patientId) {
  return {resourceType: 'Bundle', type: 'collection', entry: [{resource: {
    resourceType: 'ServiceRequest', id: 'draft-run', status: 'draft',
    intent: 'order', subject: {reference: 'Patient/' + patientId},
    code: {coding: [{system: 'urn:achilles-cds:fhir:order', code: 'running'}],
           text: 'Running, 3 x 20 min per week'}}}]};
}

function render(card) {
  const lines = [`[${card.indicator.toUpperCase()}] ${card.summary}`,
    `  source: ${card.source.label} <${card.source.url}>`];
  for (const l of card.detail.split('\n')) if (l.trim()) lines.push('  ' + l);
  for (const s of card.suggestions || []) lines.push(`  suggestion: ${s.label}`);
  for (const l of card.links || []) lines.push(`  link: ${l.label}`);
  return lines.join('\n');
}

async function main() {
  const bundle = JSON.parse(fs.readFileSync(bundleFile, 'utf8'));
  const patient = bundle.entry.find((e) => e.resource.resourceType === 'Patient');
  const disco = await request('GET', base + '/cds-services');
  if (disco.status !== 200) throw new Error('discovery: ' + disco.status);
  for (const svc of JSON.parse(disco.body).services) {
    console.log(`service ${svc.id} (${svc.hook})`);
    if (svc.hook !== 'patient-view' && svc.hook !== 'order-sign') continue;
    const url = `${base}/cds-services/${svc.id}`;
    const context = {userId: 'Practitioner/example',
                     patientId: patient.resource.id};
    if (svc.hook === 'order-sign') context.draftOrders = draftRunningOrder(patient.resource.id);
    const res = await request('POST', url, {
      hook: svc.hook, hookInstance: crypto.randomUUID(), context,
      prefetch: prefetchFrom(bundle)}, jwt(url));
    if (res.status !== 200) throw new Error(`${svc.id}: ${res.status} ${res.body}`);
    const cards = JSON.parse(res.body).cards;
    if (!Array.isArray(cards)) throw new Error('no cards array');
    for (const c of cards) console.log(render(c));
  }
}

main().catch((e) => { console.error('cds client failed:', e.message); process.exit(1); });

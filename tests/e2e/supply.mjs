// The pharmacy's scanner and the shipment view in Debian's chromium, against
// a node that tests/system/test_portal.py filled: two packs at the pharmacy
// (one already dispensed), their QR labels as PNG files, and a shipment
// whose logger recorded an excursion. Usage: node supply.mjs <scenario.json>.
import { readFileSync } from 'node:fs';
import { check, labelled, loaded, runScenario, until } from './lib.mjs';

await runScenario(async (s, signIn, errors) => {
  // The pharmacist, in German, uploads photos of the labels.
  const pharmacist = await signIn('pharmacist-braun', 'de-DE');
  await pharmacist.goto(s.url + '#/pharmacy');
  await labelled(pharmacist, 'pharmacy page');
  const scan = async (png) => {
    await pharmacist.evaluate(() => document.getElementById('scan-result').replaceChildren());
    await pharmacist.setInputFiles('input[type=file][name=image]', png);
    await pharmacist.waitForSelector('#verdict');
    return pharmacist.locator('#verdict');
  };
  let verdict = await scan(s.authentic_png);
  check((await verdict.getAttribute('class')).includes('verdict-authentic') && (await verdict.innerText()).includes('ECHT'),
    'an authentic pack\'s QR image shows "ECHT" (authentic)');
  check((await pharmacist.inputValue('form[name=code] input[name=code]')) === s.authentic_code,
    'the code decoded in the browser is the label\'s');
  const history = await pharmacist.locator('.history').innerText();
  check(history.includes('commissioned') && history.includes('pharma-werk → apotheke-am-markt'),
    'the pack\'s history is shown (commissioned, transferred)');
  await pharmacist.screenshot({ path: `${s.out}/pharmacy-authentic.png`, fullPage: true });

  verdict = await scan(s.dispensed_png);
  check((await verdict.getAttribute('class')).includes('verdict-already_dispensed') &&
    (await verdict.getAttribute('role')) === 'alert' && (await verdict.innerText()).includes('ALARM'),
    'a dispensed pack\'s QR image raises the alarm');
  await pharmacist.screenshot({ path: `${s.out}/pharmacy-alarm.png`, fullPage: true });

  // Dispensing the authentic one turns it into an alarm on the next scan.
  await scan(s.authentic_png);
  await pharmacist.click('#dispense');
  await pharmacist.waitForSelector('#verdict.verdict-already_dispensed');
  check(true, 'dispensing from the page marks the pack dispensed');
  // A typed code of a pack that does not exist.
  await pharmacist.fill('form[name=code] input[name=code]', s.unknown_code);
  await pharmacist.click('form[name=code] button[type=submit]');
  await pharmacist.waitForSelector('#verdict.verdict-unknown_serial');
  check(true, 'an unknown serial is flagged as a possible counterfeit');

  // The camera: a stream whose frames show the authentic pack's label
  // (getUserMedia replaced by a canvas stream before the page loads).
  const label = readFileSync(s.authentic_png).toString('base64');
  const cam = await pharmacist.context().newPage();
  cam.on('pageerror', (e) => errors.push(`camera page: ${e.message}`));
  await cam.addInitScript((png) => {
    navigator.mediaDevices.getUserMedia = async () => {
      const img = new Image();
      img.src = 'data:image/png;base64,' + png;
      await img.decode();
      const canvas = document.createElement('canvas');
      canvas.width = 640;
      canvas.height = 480;
      const ctx = canvas.getContext('2d');
      ctx.imageSmoothingEnabled = false;
      const draw = () => {
        ctx.fillStyle = '#fff';
        ctx.fillRect(0, 0, 640, 480);
        ctx.drawImage(img, 170, 90, 300, 300);
        requestAnimationFrame(draw);
      };
      draw();
      return canvas.captureStream(10);
    };
  }, label);
  await cam.goto(s.url + '#/');  // a new tab: sessionStorage, hence the sign-in, is per tab
  await cam.fill('form[name=signin] textarea[name=paste]', s.keys['pharmacist-braun'].file);
  await cam.click('form[name=signin] button[type=submit]');
  await cam.waitForSelector('#my-role');
  await cam.goto(s.url + '#/pharmacy');
  await cam.click('button:has-text("Kamera")');
  await cam.waitForSelector('#verdict');
  check((await cam.locator('#verdict').getAttribute('class')).includes('verdict-already_dispensed') &&
    (await cam.inputValue('form[name=code] input[name=code]')) === s.authentic_code,
    'the camera path decodes the label from the video frames (the pack is dispensed by now: alarm)');
  await cam.close();

  // The receiver's pharmacist looks at the shipment's curve and rejects it.
  await pharmacist.goto(s.url + '#/shipment/' + s.shipment);
  await loaded(pharmacist, 'shipment');
  await pharmacist.waitForSelector('#curve canvas');
  const text = await pharmacist.locator('section#shipment').innerText();
  check(text.includes(s.mkt_text), `the mean kinetic temperature is shown (${s.mkt_text})`);
  check(/Abweichungen\s+1/.test(text), 'one excursion is counted');
  // The excursion's shading: red pixels in the plot's canvas (transparent
  // where nothing is drawn), once drawn.
  const redPixels = () => pharmacist.evaluate(() => {
    const c = document.querySelector('#curve canvas');
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let red = 0;
    for (let i = 0; i < d.length; i += 4) if (d[i + 3] > 0 && d[i] > 120 && d[i + 1] < 60 && d[i + 2] < 60) red++;
    return red;
  });
  await until('the excursion is shaded on the curve', async () => (await redPixels()) > 100);
  await pharmacist.screenshot({ path: `${s.out}/shipment.png`, fullPage: true });
  await pharmacist.fill('form[name=reject] input[name=reason]', 'Temperaturabweichung über 8 °C');
  await pharmacist.click('form[name=reject] button[type=submit]');
  await pharmacist.waitForFunction(() => document.getElementById('ship-status')?.textContent === 'abgelehnt');
  check(true, 'the shipment is rejected from the page');

});

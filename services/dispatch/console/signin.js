// Signing in: password, then a TOTP code; on the first sign-in the enrolment is shown
// as a QR code (drawn as SVG by the vendored qrcode-generator) and as text.

import { svg } from "./dom.js";
import { ApiError, changePassword, login, verifyCode } from "./session.js";

export function setUpSignIn(onSignedIn) {
  const passwordForm = document.getElementById("password-form");
  const codeForm = document.getElementById("code-form");
  const changeForm = document.getElementById("change-form");
  const error = document.getElementById("sign-in-error");
  let mfaToken = null;
  let given = null; // the admin's password, held only until the person has chosen theirs

  function toCode(answer) {
    mfaToken = answer.mfa_token;
    showEnrolment(answer.enrol_uri);
    passwordForm.hidden = true;
    changeForm.hidden = true;
    codeForm.hidden = false;
    codeForm.code.focus();
  }

  passwordForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.textContent = "";
    try {
      const answer = await login(passwordForm.username.value, passwordForm.password.value);
      if (answer.password_change_required) {
        given = passwordForm.password.value;
        passwordForm.password.value = "";
        passwordForm.hidden = true;
        changeForm.hidden = false;
        changeForm["new-password"].focus();
        return;
      }
      passwordForm.password.value = "";
      toCode(answer);
    } catch (problem) {
      error.textContent = message(problem);
    }
  });

  changeForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.textContent = "";
    const chosen = changeForm["new-password"].value;
    if (chosen !== changeForm["new-password-again"].value) {
      error.textContent = "The two new passwords differ.";
      changeForm["new-password-again"].select();
      return;
    }
    try {
      await changePassword(passwordForm.username.value, given, chosen);
      given = null;
      const answer = await login(passwordForm.username.value, chosen);
      changeForm["new-password"].value = "";
      changeForm["new-password-again"].value = "";
      toCode(answer);
    } catch (problem) {
      error.textContent = message(problem);
    }
  });

  codeForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.textContent = "";
    try {
      await verifyCode(mfaToken, codeForm.code.value.trim());
      const username = passwordForm.username.value;
      reset();
      onSignedIn(username);
    } catch (problem) {
      error.textContent = message(problem);
      codeForm.code.select();
    }
  });

  // After signing in (the enrolment's secret must not stay in the page) and at sign-out
  // (the next person at the workstation types their own name).
  function reset({ forget = false } = {}) {
    mfaToken = null;
    given = null;
    codeForm.code.value = "";
    codeForm.hidden = true;
    changeForm.hidden = true;
    changeForm["new-password"].value = "";
    changeForm["new-password-again"].value = "";
    passwordForm.hidden = false;
    passwordForm.password.value = "";
    if (forget) passwordForm.username.value = "";
    error.textContent = "";
    document.getElementById("enrolment").hidden = true;
    for (const id of ["enrol-secret", "enrol-uri", "enrol-qr"]) document.getElementById(id).replaceChildren();
  }
  return reset;
}

function message(problem) {
  if (problem instanceof ApiError) return problem.message;
  return "The server could not be reached. Check the connection and try again.";
}

function showEnrolment(uri) {
  const box = document.getElementById("enrolment");
  if (!uri) {
    box.hidden = true;
    return;
  }
  box.hidden = false;
  document.getElementById("enrol-uri").textContent = uri;
  const secret = new URL(uri).searchParams.get("secret") || "";
  // In one piece: authenticator apps and pyotp take it as shown, with nothing to strip.
  document.getElementById("enrol-secret").textContent = secret;
  document.getElementById("enrol-qr").replaceChildren(qrSvg(uri));
}

function qrSvg(text) {
  const qr = window.qrcode(0, "M");
  qr.addData(text);
  qr.make();
  const count = qr.getModuleCount();
  const quiet = 4;
  const size = count + quiet * 2;
  let path = "";
  for (let row = 0; row < count; row += 1) {
    for (let col = 0; col < count; col += 1) {
      if (qr.isDark(row, col)) path += `M${col + quiet} ${row + quiet}h1v1h-1z`;
    }
  }
  return svg(
    "svg",
    { viewBox: `0 0 ${size} ${size}`, "shape-rendering": "crispEdges", "aria-hidden": "true" },
    svg("rect", { width: size, height: size, fill: "#fff" }),
    svg("path", { d: path, fill: "#000" }),
  );
}

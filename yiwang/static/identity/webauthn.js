/* Passkeys (通行密钥) for yiwang's identity pages: our own small WebAuthn glue.
 *
 * [data-passkey-auth]     sign in / second factor / step-up with a passkey
 * [data-passkey-register] create a passkey on the security page
 *
 * The server sends PublicKeyCredential{Creation,Request}Options as JSON with binary fields
 * in base64url (py_webauthn's options_to_json); we turn them into ArrayBuffers, call
 * navigator.credentials, and send the credential back as JSON (base64url again). Every
 * request carries the page's CSRF token. Messages shown to people come from data-msg-*
 * attributes, translated by the server.
 */
(function () {
  "use strict";

  if (window.yiwangWebAuthn) {
    return; // the snippet may be included more than once
  }

  function b64urlToBuffer(value) {
    var text = String(value).replace(/-/g, "+").replace(/_/g, "/");
    while (text.length % 4) {
      text += "=";
    }
    var binary = window.atob(text);
    var bytes = new Uint8Array(binary.length);
    for (var i = 0; i < binary.length; i += 1) {
      bytes[i] = binary.charCodeAt(i);
    }
    return bytes.buffer;
  }

  function bufferToB64url(buffer) {
    var bytes = new Uint8Array(buffer);
    var binary = "";
    for (var i = 0; i < bytes.length; i += 1) {
      binary += String.fromCharCode(bytes[i]);
    }
    return window.btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function descriptors(list) {
    return (list || []).map(function (item) {
      var copy = { type: item.type, id: b64urlToBuffer(item.id) };
      if (item.transports) {
        copy.transports = item.transports;
      }
      return copy;
    });
  }

  function creationOptions(json) {
    var options = Object.assign({}, json);
    options.challenge = b64urlToBuffer(json.challenge);
    options.user = Object.assign({}, json.user, { id: b64urlToBuffer(json.user.id) });
    options.excludeCredentials = descriptors(json.excludeCredentials);
    return options;
  }

  function requestOptions(json) {
    var options = Object.assign({}, json);
    options.challenge = b64urlToBuffer(json.challenge);
    options.allowCredentials = descriptors(json.allowCredentials);
    return options;
  }

  function credentialToJSON(credential) {
    var response = credential.response;
    var out = {
      id: credential.id,
      rawId: bufferToB64url(credential.rawId),
      type: credential.type,
      response: { clientDataJSON: bufferToB64url(response.clientDataJSON) },
      clientExtensionResults: credential.getClientExtensionResults
        ? credential.getClientExtensionResults() : {}
    };
    if (credential.authenticatorAttachment) {
      out.authenticatorAttachment = credential.authenticatorAttachment;
    }
    if (response.attestationObject) {
      out.response.attestationObject = bufferToB64url(response.attestationObject);
      if (typeof response.getTransports === "function") {
        out.response.transports = response.getTransports();
      }
    } else {
      out.response.authenticatorData = bufferToB64url(response.authenticatorData);
      out.response.signature = bufferToB64url(response.signature);
      if (response.userHandle && response.userHandle.byteLength) {
        out.response.userHandle = bufferToB64url(response.userHandle);
      }
    }
    return out;
  }

  function csrfToken(root) {
    var input = root.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function postJSON(url, body, token) {
    return window.fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: {
        "Content-Type": "application/json",
        "Accept": "application/json",
        "X-CSRFToken": token
      },
      body: JSON.stringify(body)
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        return { ok: response.ok, data: data };
      });
    });
  }

  function browserMessage(root, error) {
    var name = error && error.name;
    if (name === "NotAllowedError" || name === "AbortError") {
      return root.dataset.msgCancelled;
    }
    if (name === "InvalidStateError" && root.dataset.msgExists) {
      return root.dataset.msgExists;
    }
    if (name === "SecurityError") {
      return root.dataset.msgSecurity;
    }
    if (name === "NotSupportedError") {
      return root.dataset.msgUnsupported;
    }
    if (name === "TypeError") {
      return root.dataset.msgNetwork;
    }
    return root.dataset.msgFailed;
  }

  function supported() {
    return Boolean(window.PublicKeyCredential && navigator.credentials
      && window.fetch && window.atob);
  }

  function setup(root, run) {
    var form = root.querySelector("[data-passkey-form]");
    var button = root.querySelector("[data-passkey-button]");
    var status = root.querySelector("[data-passkey-status]");
    function say(text) {
      if (status) {
        status.textContent = text || "";
      }
    }
    if (!form || !button) {
      return;
    }
    if (!supported()) {
      say(root.dataset.msgUnsupported);
      return;
    }
    button.disabled = false;
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (button.disabled) {
        return;
      }
      button.disabled = true;
      say(root.dataset.msgWorking);
      run(root, form, csrfToken(root)).then(function (result) {
        if (result && result.redirect) {
          window.location.assign(result.redirect);
          return;
        }
        say((result && result.error) || root.dataset.msgFailed);
        button.disabled = false;
      }, function (error) {
        say(browserMessage(root, error));
        button.disabled = false;
      });
    });
  }

  function authenticate(root, form, token) {
    var body = { mode: root.dataset.mode || "login", next: root.dataset.next || "" };
    return postJSON(root.dataset.optionsUrl, body, token).then(function (reply) {
      if (!reply.ok || !reply.data.publicKey) {
        return { error: reply.data.error, redirect: reply.data.redirect };
      }
      return navigator.credentials.get({ publicKey: requestOptions(reply.data.publicKey) })
        .then(function (credential) {
          return postJSON(root.dataset.verifyUrl, { credential: credentialToJSON(credential) },
            token).then(function (result) { return result.data; });
        });
    });
  }

  function register(root, form, token) {
    var nameInput = form.querySelector("input[name=name]");
    return postJSON(root.dataset.optionsUrl, {}, token).then(function (reply) {
      if (!reply.ok || !reply.data.publicKey) {
        return { error: reply.data.error, redirect: reply.data.redirect };
      }
      return navigator.credentials.create({ publicKey: creationOptions(reply.data.publicKey) })
        .then(function (credential) {
          return postJSON(root.dataset.registerUrl, {
            credential: credentialToJSON(credential),
            name: nameInput ? nameInput.value : ""
          }, token).then(function (result) { return result.data; });
        });
    });
  }

  function start() {
    document.querySelectorAll("[data-passkey-auth]").forEach(function (root) {
      setup(root, authenticate);
    });
    document.querySelectorAll("[data-passkey-register]").forEach(function (root) {
      setup(root, register);
    });
  }

  window.yiwangWebAuthn = {
    b64urlToBuffer: b64urlToBuffer,
    bufferToB64url: bufferToB64url,
    credentialToJSON: credentialToJSON
  };

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
}());

"""Test certificate authorities and the certificates they sign, made with openssl for the TLS tests."""
import os
import subprocess


def openssl(folder, *args):
    subprocess.run(["openssl", *args], check=True, capture_output=True, cwd=folder)


def make_ca(folder, name):
    """A self-signed CA; returns the paths of its certificate and key."""
    openssl(folder, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}-ca.key",
            "-out", f"{name}-ca.pem", "-days", "2", "-subj", f"/CN=warden test CA {name}")
    return os.path.join(folder, f"{name}-ca.pem"), os.path.join(folder, f"{name}-ca.key")


def make_cert(folder, ca, name, server=False):
    """A certificate `ca` signed: for 127.0.0.1 and localhost when `server`, else a client's."""
    ca_cert, ca_key = ca
    openssl(folder, "req", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key", "-out", f"{name}.csr",
            "-subj", f"/CN={name}")
    extensions = os.path.join(folder, f"{name}.ext")
    with open(extensions, "w") as f:
        f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n" if server
                else "extendedKeyUsage=clientAuth\n")
    openssl(folder, "x509", "-req", "-in", f"{name}.csr", "-CA", ca_cert, "-CAkey", ca_key, "-CAcreateserial",
            "-out", f"{name}.pem", "-days", "2", "-extfile", extensions)
    return os.path.join(folder, f"{name}.pem"), os.path.join(folder, f"{name}.key")

-- 015_client_certs: TLS client certificates as credentials (api.md).
--
-- A certificate issued by the county's CA (the daemon's tls_client_ca_file,
-- verified in the TLS handshake) names its role and scope
-- (urn:vacancyd:ROLE:SCOPE, daemon/certid.h). Its credential is the SHA-256
-- of its DER encoding, kept in registry.credential like a token's hash, with
-- the prefix "x509:" and 7 hex digits, so `vacancyd token list` shows it and
-- `vacancyd token revoke x509:...` revokes it. The principal is recorded on
-- the certificate's first use: the CA is the authority that issues it, the
-- registry only keeps who acted (history, access log) and what was revoked.
ALTER TABLE registry.credential
	ADD COLUMN kind text NOT NULL DEFAULT 'token' CHECK (kind IN ('token', 'certificate'));

CREATE FUNCTION registry.authenticate_cert(p_hash bytea, p_role registry.role, p_scope text,
	p_name text)
RETURNS TABLE (principal_id bigint, role registry.role, scope text, name text)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = registry, public, pg_temp AS $$
DECLARE
	v_id bigint;
BEGIN
	-- one first use at a time per certificate
	PERFORM pg_advisory_xact_lock(hashtext('vacancyd.cert'), hashtext(encode(p_hash, 'hex')));
	SELECT c.principal_id INTO v_id FROM registry.credential c WHERE c.token_hash = p_hash;
	IF NOT FOUND THEN
		INSERT INTO registry.principal (role, scope, name)
		VALUES (p_role, p_scope, left(p_name, 200))
		RETURNING registry.principal.principal_id INTO v_id;
		INSERT INTO registry.credential (token_hash, prefix, principal_id, kind)
		VALUES (p_hash, 'x509:' || left(encode(p_hash, 'hex'), 7), v_id, 'certificate');
	END IF;
	-- a revoked certificate stays revoked; one whose claim changed is refused
	RETURN QUERY
	SELECT p.principal_id, p.role, p.scope, p.name
	FROM registry.credential c JOIN registry.principal p USING (principal_id)
	WHERE c.token_hash = p_hash AND c.kind = 'certificate' AND c.revoked_at IS NULL
	  AND p.revoked_at IS NULL AND p.role = p_role AND p.scope = p_scope;
END
$$;
REVOKE ALL ON FUNCTION registry.authenticate_cert(bytea, registry.role, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION registry.authenticate_cert(bytea, registry.role, text, text)
	TO vacancyd_staff;

export {
  createCertificateAuthority,
  type CertificateAndKey,
  type CertificateAuthority,
  type CertificateAuthorityOptions,
  type IssueOptions,
} from './certificates.ts';

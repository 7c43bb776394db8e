/**
 * Entry of the sample app for the host's strictness tests: the SDK-reference app plus orchestrations
 * that break the extension's rules or meet at-least-once delivery.
 */
import '../sdk-references';
import './orchestrations';

import { useState } from 'preact/hooks';
import { AppPicker } from './appPicker';
import { LogConsole } from './logConsole';
import { FIREHOSE, LogSubject, appSubject, subjectKey } from './logSubject';
import { Refusal } from './refusal';
import { forgetToken, saveToken, savedToken } from './session';
import { SignInForm } from './signInForm';

export interface AppProps {
  /** What to open once signed in (from the address's fragment). */
  readonly initial?: LogSubject;
  /** The page's firehose subscription id (drawn once per page load). */
  readonly firehoseId: string;
}

/** Signed out → sign in; signed in → pick an app (or the firehose); then its log. */
export function App({ initial, firehoseId }: AppProps) {
  const [token, setToken] = useState<string | undefined>(savedToken());
  const [subject, setSubject] = useState<LogSubject | undefined>(initial);
  const [refusal, setRefusal] = useState<Refusal | undefined>(undefined);

  const signOut = (why?: Refusal) => {
    forgetToken();
    setToken(undefined);
    setRefusal(why);
  };
  if (token === undefined) {
    return (
      <SignInForm
        refusal={refusal}
        onSignedIn={given => {
          saveToken(given);
          setRefusal(undefined);
          setToken(given);
        }}
      />
    );
  }
  if (subject === undefined) {
    return <AppPicker token={token} onOpen={app => setSubject(appSubject(app))} onOpenFirehose={() => setSubject(FIREHOSE)} onRefused={signOut} onSignOut={() => signOut()} />;
  }
  return (
    <LogConsole
      key={`${subjectKey(subject)}\u0000${token}`}
      subject={subject}
      token={token}
      firehoseId={firehoseId}
      onLeave={() => setSubject(undefined)}
      onSignOut={() => signOut()}
    />
  );
}
